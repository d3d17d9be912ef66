//! `serve`: the read-only web view and JSON API.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use crate::canon::AliasTable;
use crate::serve;

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Address and port to listen on; other than loopback needs a token
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Secret every request must present (bearer header or the /login cookie)
    #[arg(
        long,
        env = "SCOPEWATCH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
}

pub(super) fn serve(db: &Path, aliases: AliasTable, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve::run(serve::Options {
        db: db.to_path_buf(),
        aliases,
        listen: args.listen,
        token: args.token,
    }))?;
    Ok(ExitCode::SUCCESS)
}
