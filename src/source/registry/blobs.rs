//! Layer blobs from a registry as a blocking byte stream for the scan threads.

use std::io::Read;
use std::sync::Arc;

use oci_client::manifest::OciDescriptor;
use oci_client::{Client, Reference as OciRef};
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::errors::registry_error;
use super::retry::retry;
use crate::error::Result;
use crate::source::{BlobSource, LayerDesc};

pub struct RegistryBlobs {
    client: Arc<Client>,
    runtime: Arc<tokio::runtime::Runtime>,
    reference: OciRef,
}

impl RegistryBlobs {
    pub fn new(
        client: Arc<Client>,
        runtime: Arc<tokio::runtime::Runtime>,
        reference: OciRef,
    ) -> Self {
        RegistryBlobs {
            client,
            runtime,
            reference,
        }
    }
}

impl BlobSource for RegistryBlobs {
    fn open_blob(&self, layer: &LayerDesc) -> Result<Box<dyn Read + Send>> {
        let desc = OciDescriptor {
            digest: layer.digest.to_string(),
            size: layer.size as i64,
            ..OciDescriptor::default()
        };
        let host = self.reference.resolve_registry();
        let sized = self
            .runtime
            .block_on(retry(|| {
                self.client.pull_blob_stream(&self.reference, &desc)
            }))
            .map_err(|e| registry_error(host, &format!("blob {}", layer.digest), e))?;
        // oci-client checks the digest at the end of the stream as well; the
        // scan checks it again and reports expected and found either way.
        let reader = StreamReader::new(sized.stream);
        Ok(Box::new(SyncIoBridge::new_with_handle(
            reader,
            self.runtime.handle().clone(),
        )))
    }
}
