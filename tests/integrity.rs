//! Integrity and security: verify finds tampering, export/restore round-trip
//! the whole store losslessly, secrets stay secret, TLS is always verified.

use std::process::Command;
use std::time::Duration;

use predicates::prelude::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, Setup};

const V1: &str = include_str!("../snapshots/offering-iso-27001/2020-06-15.md");
const V2: &str = include_str!("../snapshots/offering-iso-27001/2020-11-02.md");

/// A store with every kind of record: the demo history, fetch attempts and
/// state, and a pending alert whose delivery failed.
async fn full_store() -> (Setup, MockServer) {
    let site = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(V1)
                .insert_header("ETag", "\"a\""),
        )
        .mount(&site)
        .await;
    let s = Setup::new(
        &[("offering-x", format!("{}/x", site.uri()))],
        "[[alert]]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n",
        "",
    );
    assert!(s.run(&["run"], "").await.status.success());
    site.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(V2))
        .mount(&site)
        .await;
    assert_eq!(
        s.run(&["run"], "").await.status.code(),
        Some(1),
        "the alert cannot be delivered"
    );
    common::bin()
        .arg("--db")
        .arg(s.db())
        .arg("demo")
        .assert()
        .success();
    (s, site)
}

#[tokio::test(flavor = "multi_thread")]
async fn export_and_restore_round_trip_losslessly() {
    let (s, _site) = full_store().await;
    let dir = s.dir.path();
    let (first, second, restored) = (
        dir.join("a.jsonl"),
        dir.join("b.jsonl"),
        dir.join("restored.db"),
    );
    common::bin()
        .arg("--db")
        .arg(s.db())
        .args(["export", "--format", "jsonl", "-o"])
        .arg(&first)
        .assert()
        .success();
    common::bin()
        .arg("--db")
        .arg(&restored)
        .arg("restore")
        .arg(&first)
        .assert()
        .success();
    common::export(&restored, &second);
    let (a, b) = (
        std::fs::read_to_string(&first).unwrap(),
        std::fs::read_to_string(&second).unwrap(),
    );
    assert_eq!(a, b, "export → restore → export changes nothing");
    for kind in [
        "\"type\":\"alert\"",
        "\"type\":\"fetch_attempt\"",
        "\"type\":\"fetch_state\"",
        "\"type\":\"snapshot\"",
        "\"type\":\"document\"",
    ] {
        assert!(a.contains(kind), "{kind} missing from the archive");
    }
    common::bin()
        .arg("--db")
        .arg(&restored)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains(", 0 problems"));
    // The restored store answers as the original does.
    let log = |db: &std::path::Path| {
        common::bin()
            .arg("--db")
            .arg(db)
            .args(["log", "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(log(&s.db()), log(&restored));

    // Restore refuses a database that holds anything, and writes nothing of a bad archive.
    common::bin()
        .arg("--db")
        .arg(&restored)
        .arg("restore")
        .arg(&first)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already holds a history"));
    let tampered = dir.join("tampered.jsonl");
    std::fs::write(&tampered, a.replacen("\"body\":\"", "\"body\":\"AAAA", 1)).unwrap();
    let fresh = dir.join("fresh.db");
    common::bin()
        .arg("--db")
        .arg(&fresh)
        .arg("restore")
        .arg(&tampered)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not match its hash"));
    assert!(
        !fresh.exists(),
        "a refused restore leaves no database behind"
    );
}

#[test]
fn verify_finds_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    common::bin()
        .arg("--db")
        .arg(&db)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains("16 snapshots checked, 0 problems"));

    let conn = rusqlite::Connection::open(&db).unwrap();
    // One version's extraction replaced by another page's, and an entry
    // missing from the service index.
    conn.execute(
        "UPDATE snapshot SET extraction = (SELECT extraction FROM snapshot WHERE id = (SELECT max(id) FROM snapshot))
         WHERE id = (SELECT min(id) FROM snapshot)",
        [],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM service_set_member WHERE set_id = (SELECT service_set_id FROM snapshot WHERE id = (SELECT max(id) FROM snapshot))
         AND name_id = (SELECT min(name_id) FROM service_set_member
                        WHERE set_id = (SELECT service_set_id FROM snapshot WHERE id = (SELECT max(id) FROM snapshot)))",
        [],
    )
    .unwrap();
    conn.execute("UPDATE document SET body = CAST('forged' AS BLOB) WHERE hash = (SELECT max(hash) FROM document)", []).unwrap();
    // A document stored uncompressed with forged bytes still decodes, and is
    // caught by its hash alone.
    conn.execute(
        "UPDATE document SET compression = 'none', body = CAST('forged too' AS BLOB) WHERE hash = (SELECT min(hash) FROM document)",
        [],
    )
    .unwrap();
    drop(conn);
    common::bin()
        .arg("--db")
        .arg(&db)
        .arg("verify")
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("does not match its hash")
                .and(predicate::str::contains("gives a different scope"))
                .and(predicate::str::contains("service index do not match"))
                .and(predicate::str::contains("cannot be read")),
        );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_output_logs_or_the_database() {
    let site = MockServer::start().await;
    let alerts = "[[alert]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = 9\ntls = \"none\"\nusername = \"bot\"\n\
                  password_env = \"SW_SMTP_PASSWORD\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\n\n\
                  [[alert]]\nkind = \"slack\"\nurl_env = \"SW_HOOK_URL\"\n";
    let s = Setup::new(&[("p", format!("{}/p", site.uri()))], alerts, "");
    let config = s.config.clone();
    let run = move |args: &[&str]| {
        let mut cmd = common::bin();
        cmd.arg("--config").arg(&config).args(args);
        cmd.env("SW_SMTP_PASSWORD", "SMTP-SECRET-987")
            .env("SW_HOOK_URL", "http://127.0.0.1:9/T0KEN-SECRET-654");
        cmd.timeout(Duration::from_secs(60)).output().unwrap()
    };
    let mut seen = String::new();
    for (page, verbose) in [(V1, false), (V2, true), (V2, true)] {
        site.reset().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(page))
            .mount(&site)
            .await;
        let run = run.clone();
        let out = tokio::task::spawn_blocking(move || {
            if verbose {
                run(&["-vv", "--log-format", "json", "run"])
            } else {
                run(&["run"])
            }
        })
        .await
        .unwrap();
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        seen.contains("alert not delivered"),
        "deliveries were attempted and failed: {seen}"
    );
    for secret in ["SMTP-SECRET-987", "T0KEN-SECRET-654"] {
        assert!(!seen.contains(secret), "{secret} leaked: {seen}");
        let db = std::fs::read(s.db()).unwrap();
        assert!(
            !String::from_utf8_lossy(&db).contains(secret),
            "{secret} stored"
        );
    }
}

#[test]
fn tls_certificates_are_always_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-accept",
            &port.to_string(),
            "-cert",
        ])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!("database = \"{}\"\n[fetch]\nretries = 0\n[[source]]\nid = \"tls\"\nurl = \"https://127.0.0.1:{port}/\"\n", dir.path().join("t.db").display()),
    )
    .unwrap();
    let out = common::bin()
        .arg("--config")
        .arg(&config)
        .arg("run")
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("FAILED") && text.to_lowercase().contains("certificate"),
        "{text}"
    );
}
