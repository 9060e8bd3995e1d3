//! Media below the use cases: processing pictures (`image`), video and audio through
//! ffmpeg (`av`), and the storage of files (`storage`). `app::media` decides what is
//! stored and when; this module only transforms bytes and keeps files.

pub mod av;
pub mod image;
pub mod storage;

use std::sync::Arc;

use tokio::sync::Semaphore;

pub use storage::MediaStore;

/// Pictures processed at once: decoding holds a whole picture in memory (up to
/// `MAX_IMAGE_PIXELS` × 4 bytes), so the number at once bounds the memory processing
/// takes, whatever the number of uploads.
pub const PROCESSING_AT_ONCE: usize = 2;

/// The media parts of the application state.
pub struct MediaState {
    pub store: MediaStore,
    /// ffmpeg and ffprobe, when the machine has them; without them video and audio are
    /// refused.
    pub ffmpeg: Option<av::Ffmpeg>,
    permits: Arc<Semaphore>,
}

impl MediaState {
    pub fn new(store: MediaStore, ffmpeg: Option<av::Ffmpeg>) -> MediaState {
        MediaState {
            store,
            ffmpeg,
            permits: Arc::new(Semaphore::new(PROCESSING_AT_ONCE)),
        }
    }

    /// Runs CPU-heavy work on the blocking pool, a bounded number at a time.
    pub async fn process<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.clone().acquire_owned().await?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }

    /// A permit for work that holds memory or processes of its own (ffmpeg).
    pub async fn permit(&self) -> anyhow::Result<tokio::sync::OwnedSemaphorePermit> {
        Ok(self.permits.clone().acquire_owned().await?)
    }
}
