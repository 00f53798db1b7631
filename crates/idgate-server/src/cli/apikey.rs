//! `idgate apikey create|revoke`: platform API keys, issued and withdrawn on the command line.

use idgate_store::Store;

/// Creates a key named `name` and prints it once (stdout); only its digest is stored.
pub async fn create(store: &Store, name: &str) -> anyhow::Result<()> {
    let key = crate::credentials::generate_api_key();
    let k = store
        .create_api_key(name, &crate::credentials::hash_api_key(&key))
        .await?;
    eprintln!(
        "created API key {} ({}); it is shown only once:",
        k.id, k.name
    );
    println!("{key}");
    Ok(())
}

/// Revokes the active key `id`; an unknown or already revoked id is an error.
pub async fn revoke(store: &Store, id: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        store.revoke_api_key(id).await?,
        "no active API key with id {id}"
    );
    println!("revoked");
    Ok(())
}
