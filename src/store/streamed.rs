//! Layers met in a stream before their image is known (an engine's export
//! writes layers before its manifest.json): scanned as they arrive into the
//! tier taking new entries, so the stream is never spooled; later lookups
//! of the image find them like any kept layer.

use std::io::{self, Read};

use super::tier::Tier;
use super::Store;
use crate::error::{Error, Result};
use crate::image::LayerDesc;
use crate::layer::{self, ScanOptions};
use crate::source::LayerSink;

impl LayerSink for Store {
    fn take(&self, layer: &LayerDesc, blob: &mut (dyn Read + Send)) -> Result<()> {
        // Kept already (a warm cache, or named twice): read through, unscanned.
        if self.lookup(layer, true)?.is_some() {
            io::copy(blob, &mut io::sink()).map_err(|e| Error::io("layer stream", e))?;
            return Ok(());
        }
        let local = self.writer()?;
        let dir = local.scratch(&layer.digest);
        // Hash on one thread, walk on another: the stream is read at the
        // pace of the slower, not of both in turn.
        let opts = ScanOptions {
            pipelined: true,
            progress: None,
        };
        let scanned = layer::scan(blob, layer, opts, &dir)?;
        let (kept, _) = local
            .put(scanned.summary, scanned.index.into_temp_path())
            .map_err(|e| Error::io(&dir, e))?;
        let path = local.index_path(&kept.summary.digest);
        self.checked
            .lock()
            .map_err(|_| super::poisoned())?
            .insert(kept.summary.digest.clone(), path);
        Ok(())
    }
}
