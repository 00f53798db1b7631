//! The blob store against a real S3 protocol server: scripts/test starts moto's S3 server
//! (PyPI `moto[server]`) and creates the bucket; `IDGATE_TEST_S3_ENDPOINT` and
//! `IDGATE_TEST_S3_BUCKET` say where. This exercises what the in-memory unit tests cannot:
//! request signing, path-style addressing, the prefix, and errors from the network.

use idgate_store::{BlobStore, Keyring, MasterKey, Owner, S3Config, StoreError};

const A: Owner<'static> = Owner::Applicant("3c9d5e0a-8f1b-4e2d-9c7a-6b5e4d3c2b1a");

fn config(prefix: &str) -> S3Config {
    let endpoint = std::env::var("IDGATE_TEST_S3_ENDPOINT")
        .expect("IDGATE_TEST_S3_ENDPOINT: run through scripts/test, which starts an S3 server");
    S3Config {
        bucket: std::env::var("IDGATE_TEST_S3_BUCKET").unwrap_or_else(|_| "idgate-test".into()),
        endpoint: Some(endpoint),
        region: "us-east-1".into(),
        access_key_id: "idgate-test".into(),
        secret_access_key: "idgate-test-secret".into(),
        prefix: prefix.into(),
    }
}

fn unique_prefix() -> String {
    format!("run-{}", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn s3_round_trip_is_encrypted_at_rest_and_deletes() {
    let master = MasterKey::generate();
    let store = BlobStore::s3(&config(&unique_prefix()), master.clone()).unwrap();
    let image = b"\xff\xd8\xff\xe0 a passport photo on S3".repeat(200);
    let key = store.put(A, &image).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), image);
    let raw = store.get_raw(&key).await.unwrap();
    assert!(raw.len() > image.len());
    assert!(
        !raw.windows(16).any(|w| image.windows(16).any(|i| i == w)),
        "plaintext at rest on S3"
    );
    store.delete(&key).await.unwrap();
    assert!(
        store.get(&key).await.is_err(),
        "deleted object still readable"
    );
}

#[tokio::test]
async fn s3_objects_need_the_same_master_key_and_prefix() {
    let prefix = unique_prefix();
    let store = BlobStore::s3(&config(&prefix), MasterKey::generate()).unwrap();
    let key = store.put(A, b"secret").await.unwrap();
    let other_key = BlobStore::s3(&config(&prefix), MasterKey::generate()).unwrap();
    assert!(matches!(
        other_key.get(&key).await,
        Err(StoreError::MasterKey(_))
    ));
    let other_prefix = BlobStore::s3(&config(&unique_prefix()), MasterKey::generate()).unwrap();
    assert!(matches!(
        other_prefix.get(&key).await,
        Err(StoreError::Blob(_))
    ));
}

#[tokio::test]
async fn an_unreachable_s3_service_is_an_error() {
    let mut cfg = config(&unique_prefix());
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cfg.endpoint = Some(format!("http://127.0.0.1:{port}"));
    let store = BlobStore::s3(&cfg, MasterKey::generate()).unwrap();
    assert!(matches!(store.put(A, b"x").await, Err(StoreError::Blob(_))));
}

/// Owners' keys on S3: made once when two processes race (a conditional put), read by
/// another process, destroyed by an erasure, and wrapped again by a rotation (a listing).
#[tokio::test]
async fn s3_owner_keys_are_made_once_erased_and_rewrapped() {
    let prefix = unique_prefix();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let masters = Keyring::load_or_create(&key_file).unwrap();
    let one = BlobStore::s3(&config(&prefix), masters.clone()).unwrap();
    let two = BlobStore::s3(&config(&prefix), masters.clone()).unwrap();
    let (a, b) = tokio::join!(one.put(A, b"front"), two.put(A, b"back"));
    let (a, b) = (a.unwrap(), b.unwrap());
    let three = BlobStore::s3(&config(&prefix), masters.clone()).unwrap();
    assert_eq!(three.get(&a).await.unwrap(), b"front");
    assert_eq!(three.get(&b).await.unwrap(), b"back");
    let kept = three.put(Owner::System, b"totp").await.unwrap();

    masters.add_new_key().unwrap();
    let done = three.rewrap().await.unwrap();
    assert_eq!((done.keys, done.objects), (2, 3), "{done:?}");
    masters.retire_older().unwrap();
    let fresh = BlobStore::s3(&config(&prefix), Keyring::from_file(&key_file).unwrap()).unwrap();
    assert_eq!(fresh.get(&b).await.unwrap(), b"back");
    assert_eq!(fresh.get(&kept).await.unwrap(), b"totp");

    let Owner::Applicant(id) = A else {
        unreachable!()
    };
    fresh.erase_owner(id).await.unwrap();
    assert!(matches!(fresh.get(&a).await, Err(StoreError::Erased)));
    assert!(matches!(
        fresh.put(A, b"more").await,
        Err(StoreError::Erased)
    ));
    assert_eq!(fresh.get(&kept).await.unwrap(), b"totp");
}
