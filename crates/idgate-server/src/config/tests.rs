//! The layering, validation and defaults of the configuration.

use super::*;

fn layer(pairs: &[(&str, &str)]) -> Layer {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_describe_the_embedded_setup() {
    let c = resolve(&[]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url.0, "sqlite://data/idgate.db");
    assert!(
        matches!(c.master_key, MasterKeySource::File(ref p) if p == Path::new("data/master.key"))
    );
    assert!(matches!(c.storage, Storage::Local { ref dir } if dir == Path::new("data/blobs")));
    assert_eq!(c.jobs.lease_secs, 30);
    assert!(
        c.console.trusted_proxies.is_empty(),
        "no proxy header believed"
    );
    assert_eq!(c.role, Role::All);
    assert_eq!(
        (c.limits.api_key_per_minute, c.limits.session_per_minute),
        (1_200, 300)
    );
    let c = resolve(&[layer(&[("limits.session_per_minute", "0")])]).unwrap();
    assert_eq!(c.limits.session_per_minute, 0, "0 turns the limit off");
    assert!(resolve(&[layer(&[("limits.api_key_per_minute", "-1")])]).is_err());
    assert!(
        c.lists.feeds.is_empty(),
        "nothing is fetched unless configured"
    );
    let c = resolve(&[layer(&[(
        "lists.refresh",
        "un un_xml https://un.example/consolidated.xml;\n ofac_sdn ofac_csv https://ofac.example/sdn.csv",
    )])])
    .unwrap();
    assert_eq!(
        c.lists
            .feeds
            .iter()
            .map(|f| (f.source.as_str(), f.format.as_str()))
            .collect::<Vec<_>>(),
        [("un", "un_xml"), ("ofac_sdn", "ofac_csv")]
    );
    assert_eq!(c.lists.every_secs, 86_400);
    for bad in [
        "un un_xml",
        "UN un_xml https://x/y",
        "un pdf https://x/y",
        "un un_xml ftp://x/y",
        "un un_xml https://x/a; un un_xml https://x/b",
    ] {
        let e = resolve(&[layer(&[("lists.refresh", bad)])]).unwrap_err();
        assert!(e.to_string().contains("lists.refresh"), "{bad}: {e}");
    }
    let c = resolve(&[layer(&[("role", "worker")])]).unwrap();
    assert!(c.role.works() && !c.role.serves_api());
    let c = resolve(&[layer(&[("console.trusted_proxies", "10.0.0.1, ::1")])]).unwrap();
    assert_eq!(
        c.console.trusted_proxies,
        [
            "10.0.0.1".parse::<std::net::IpAddr>().unwrap(),
            "::1".parse().unwrap()
        ]
    );
}

#[test]
fn later_layers_win() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idgate.toml");
    std::fs::write(
        &path,
        "listen = \"0.0.0.0:9000\"\n[jobs]\nworkers = 4\nlease_secs = 10\n",
    )
    .unwrap();
    let file = toml_layer(&path).unwrap();
    let env = env_layer([
        ("IDGATE_WORKERS".to_string(), "3".to_string()),
        ("HOME".into(), "/x".into()),
    ]);
    let flags = layer(&[("jobs.lease_secs", "7")]);
    let c = resolve(&[file, env, flags]).unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.jobs.workers, 3);
    assert_eq!(c.jobs.lease_secs, 7);
}

#[test]
fn secrets_come_from_files_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("db");
    std::fs::write(&secret, "postgres://u:hunter2@db/idgate\n").unwrap();
    let env = env_layer([(
        "IDGATE_DATABASE_URL_FILE".to_string(),
        secret.display().to_string(),
    )]);
    let c = resolve(&[env]).unwrap();
    assert_eq!(c.database_url.0, "postgres://u:hunter2@db/idgate");
    assert!(!format!("{c:?}").contains("hunter2"));
    // A later plain value replaces an earlier file.
    let c = resolve(&[
        layer(&[("database_url_file", "/nonexistent")]),
        layer(&[("database_url", "sqlite://x.db")]),
    ])
    .unwrap();
    assert_eq!(c.database_url.0, "sqlite://x.db");
}

#[test]
fn the_master_key_comes_inline_or_from_a_file_whichever_is_later() {
    let hex = "ab".repeat(32);
    let c = resolve(&[env_layer([("IDGATE_MASTER_KEY".to_string(), hex.clone())])]).unwrap();
    assert!(matches!(c.master_key, MasterKeySource::Inline(ref s) if s.0 == hex));
    assert!(!format!("{c:?}").contains(&hex));
    let c = resolve(&[
        layer(&[("master_key", &hex)]),
        env_layer([("IDGATE_MASTER_KEY_FILE".to_string(), "/k/master.key".into())]),
    ])
    .unwrap();
    assert!(
        matches!(c.master_key, MasterKeySource::File(ref p) if p == Path::new("/k/master.key"))
    );
}

#[test]
fn bad_values_are_named() {
    for (pairs, needle) in [
        (vec![("listen", "nowhere")], "listen"),
        (vec![("jobs.lease_secs", "0")], "jobs.lease_secs"),
        (vec![("jobs.workers", "-1")], "jobs.workers"),
        (vec![("storage.kind", "ftp")], "storage.kind"),
        (vec![("storage.kind", "s3")], "s3.bucket"),
        (vec![("database_url", "mysql://x")], "database_url"),
        (vec![("jobs.nope", "1")], "jobs.nope"),
        (vec![("role", "everything")], "role"),
        (
            vec![("console.trusted_proxies", "10.0.0.1, proxy.local")],
            "console.trusted_proxies",
        ),
    ] {
        let err = resolve(&[layer(&pairs)]).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn s3_storage_is_configured_from_env() {
    let env = env_layer(
        [
            ("IDGATE_STORAGE_KIND", "s3"),
            ("IDGATE_S3_BUCKET", "kyc"),
            ("IDGATE_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("IDGATE_S3_ACCESS_KEY_ID", "id"),
            ("IDGATE_S3_SECRET_ACCESS_KEY", "topsecret"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string())),
    );
    let c = resolve(&[env]).unwrap();
    let Storage::S3(s3) = &c.storage else {
        panic!("expected s3")
    };
    assert_eq!(
        (s3.bucket.as_str(), s3.region.as_str()),
        ("kyc", "us-east-1")
    );
    assert!(!format!("{c:?}").contains("topsecret"));
}
