//! `alert test`: a sample alert on each channel, so that a channel is
//! proven before the first real change.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::emit;
use crate::alert;
use crate::config::Config;

#[derive(Debug, Args)]
pub(super) struct AlertArgs {
    #[command(subcommand)]
    action: AlertAction,
}

#[derive(Debug, Subcommand)]
enum AlertAction {
    /// Send a sample alert on every configured channel, or on the one named
    Test {
        /// The channel's `name` (or its kind when it has none)
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
}

pub(super) fn alert(config: &Config, args: AlertArgs) -> anyhow::Result<ExitCode> {
    let AlertAction::Test { channel } = args.action;
    let names: Vec<&str> = config.alerts.iter().map(|c| c.name()).collect();
    if names.is_empty() {
        bail!("the configuration has no alert channels: add an [[alert]] section");
    }
    if let Some(name) = channel.as_deref().filter(|n| !names.contains(n)) {
        bail!(
            "no alert channel named {name:?}: the configuration has {}",
            names.join(", ")
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcomes = runtime.block_on(alert::send_test(config, channel.as_deref()))?;
    let mut out = String::new();
    let mut failed = false;
    for (name, outcome) in outcomes {
        match outcome {
            Ok(()) => out.push_str(&format!("{name}: test alert delivered\n")),
            Err(e) => {
                failed = true;
                out.push_str(&format!("{name}: NOT DELIVERED: {e}\n"));
            }
        }
    }
    emit(&out)?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
