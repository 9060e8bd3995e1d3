//! Where media files live, behind one interface: `MediaStore`. Files are written once
//! under a random key and never changed, so a key names its content for good (it is the
//! ETag) and can be cached forever; removing a file is idempotent.
//!
//! The data folder is the default (one binary, nothing else to run): files lie under
//! `<data>/media/`, each written to a temporary name and renamed into place, so a reader
//! never sees half a file. For several servers, S3-compatible object storage through
//! `object_store` (an object is written whole or not at all), served either through
//! Cascade or straight from a public base URL.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A stored file's bytes, or a range of them.
#[derive(Debug, Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// The whole file's length.
    pub total: u64,
}

/// The storage backends: a closed set, so an enum and no `dyn`.
#[derive(Debug, Clone)]
pub enum MediaStore {
    /// Files under a folder (`<data>/media`).
    Folder(PathBuf),
    /// Objects in an S3-compatible bucket, under their keys.
    S3(object_store::aws::AmazonS3),
}

/// Where an S3-compatible bucket is and how to sign in to it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The service's URL, `https://s3.example.com` (path-style requests).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"(hidden)")
            .finish()
    }
}

fn io_error(e: object_store::Error) -> std::io::Error {
    std::io::Error::other(e)
}

/// Whether a key is one Cascade makes: `<letter>/<32 hex digits>.<extension>`. Anything
/// else (`..`, slashes, long names) never reaches the file system.
pub fn valid_key(key: &str) -> bool {
    let Some((prefix, rest)) = key.split_once('/') else {
        return false;
    };
    let Some((name, ext)) = rest.split_once('.') else {
        return false;
    };
    prefix.len() == 1
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && name.len() == 32
        && name
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && (1..=5).contains(&ext.len())
        && ext
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A new random key for a file of `extension`, under `prefix` (`m` media, `p` previews,
/// `a` avatars, `h` headers): 128 random bits, so no URL can be guessed.
pub fn new_key(prefix: char, extension: &str) -> String {
    use rand::RngCore;
    let mut raw = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut raw);
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}/{hex}.{extension}")
}

impl MediaStore {
    /// The data folder's store.
    pub fn folder(data_dir: &Path) -> MediaStore {
        MediaStore::Folder(data_dir.join("media"))
    }

    /// A bucket's store. Plain `http` is allowed only for a loopback endpoint (a local
    /// S3 server in tests).
    pub fn s3(settings: &S3Settings) -> anyhow::Result<MediaStore> {
        let local = settings.endpoint.starts_with("http://127.0.0.1")
            || settings.endpoint.starts_with("http://localhost")
            || settings.endpoint.starts_with("http://[::1]");
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&settings.endpoint)
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(local)
            .build()?;
        Ok(MediaStore::S3(store))
    }

    fn object(key: &str) -> std::io::Result<object_store::path::Path> {
        if !valid_key(key) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a media key",
            ));
        }
        Ok(object_store::path::Path::from(key))
    }

    fn path(root: &Path, key: &str) -> std::io::Result<PathBuf> {
        if !valid_key(key) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a media key",
            ));
        }
        Ok(root.join(key))
    }

    /// Stores a file under `key`.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            MediaStore::Folder(root) => {
                let path = Self::path(root, key)?;
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let temporary = path.with_extension("part");
                tokio::fs::write(&temporary, bytes).await?;
                tokio::fs::rename(&temporary, &path).await
            }
            MediaStore::S3(store) => {
                use object_store::ObjectStore;
                let payload = object_store::PutPayload::from(bytes.to_vec());
                store
                    .put(&Self::object(key)?, payload)
                    .await
                    .map(drop)
                    .map_err(io_error)
            }
        }
    }

    /// A file's bytes, or `range` of them (`start..end`, end excluded, cut to the file);
    /// `None` when there is no such file.
    pub async fn get(&self, key: &str, range: Option<(u64, u64)>) -> std::io::Result<Option<Blob>> {
        match self {
            MediaStore::Folder(root) => {
                let path = Self::path(root, key)?;
                let mut file = match tokio::fs::File::open(&path).await {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                };
                let total = file.metadata().await?.len();
                let (start, end) = match range {
                    Some((s, e)) => (s.min(total), e.min(total)),
                    None => (0, total),
                };
                file.seek(SeekFrom::Start(start)).await?;
                let mut bytes = Vec::with_capacity((end.saturating_sub(start)) as usize);
                file.take(end.saturating_sub(start))
                    .read_to_end(&mut bytes)
                    .await?;
                Ok(Some(Blob { bytes, total }))
            }
            MediaStore::S3(store) => {
                use object_store::ObjectStore;
                let path = Self::object(key)?;
                let Some(total) = self.len(key).await? else {
                    return Ok(None);
                };
                let (start, end) = match range {
                    Some((s, e)) => (s.min(total), e.min(total)),
                    None => (0, total),
                };
                if start >= end {
                    return Ok(Some(Blob {
                        bytes: Vec::new(),
                        total,
                    }));
                }
                match store.get_range(&path, start..end).await {
                    Ok(bytes) => Ok(Some(Blob {
                        bytes: bytes.to_vec(),
                        total,
                    })),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(io_error(e)),
                }
            }
        }
    }

    /// The length of a stored file, `None` when there is none.
    pub async fn len(&self, key: &str) -> std::io::Result<Option<u64>> {
        match self {
            MediaStore::Folder(root) => match tokio::fs::metadata(Self::path(root, key)?).await {
                Ok(m) => Ok(Some(m.len())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
            MediaStore::S3(store) => {
                use object_store::ObjectStore;
                match store.head(&Self::object(key)?).await {
                    Ok(meta) => Ok(Some(meta.size)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(io_error(e)),
                }
            }
        }
    }

    /// Removes a file; one already gone is no error.
    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match self {
            MediaStore::Folder(root) => {
                match tokio::fs::remove_file(Self::path(root, key)?).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                }
            }
            MediaStore::S3(store) => {
                use object_store::ObjectStore;
                match store.delete(&Self::object(key)?).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(io_error(e)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_cascade_makes_are_valid() {
        let key = new_key('m', "jpg");
        assert!(valid_key(&key), "{key}");
        assert!(!valid_key("m/../../etc/passwd"));
        assert!(!valid_key("m/0123456789abcdef0123456789abcdef.jpg/x"));
        assert!(!valid_key("../0123456789abcdef0123456789abcdef.jpg"));
        assert!(!valid_key("m/0123456789ABCDEF0123456789abcdef.jpg"));
        assert_ne!(new_key('m', "jpg"), key);
    }
}
