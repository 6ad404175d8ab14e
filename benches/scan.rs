//! The scan path: one large gzip layer scanned (decompress + both SHA-256 +
//! tar walk + content hashes) against plain decompression of the same bytes
//! with the same flate2 backend; and two similar layers scanned in parallel.
//!
//! Targets (issue "Read images from local stores…"): a single layer's scan
//! at least 0.75x decompression-only throughput; two layers in parallel at
//! least 1.6x one layer's throughput.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;

use std::fs::File;
use std::io::{BufReader, Read};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata::image::{Compression, Declared, Digest, LayerDesc};
use strata::layer::{scan, ScanOptions};

fn desc(l: &builder::Layer) -> LayerDesc {
    LayerDesc {
        digest: Digest::parse(&l.digest, "bench").unwrap(),
        size: l.size,
        diff_id: Some(Digest::parse(&l.diff_id, "bench").unwrap()),
        declared: Declared::MediaType(Compression::Gzip),
        history: None,
        foreign: None,
    }
}

fn scan_file(l: &builder::Layer, pipelined: bool) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let idx = scan(
        File::open(&l.path).unwrap(),
        &desc(l),
        ScanOptions {
            pipelined,
            progress: None,
        },
        dir.path(),
    )
    .unwrap();
    idx.summary.uncompressed
}

fn benches(c: &mut Criterion) {
    let a = data::layer("layer-a", 1);
    let b = data::layer("layer-b", 2);
    let uncompressed = scan_file(&a, false);
    let uncompressed_b = scan_file(&b, false);
    eprintln!(
        "layer a: {} MB compressed, {} MB uncompressed",
        a.size / 1_000_000,
        uncompressed / 1_000_000
    );

    let mut g = c.benchmark_group("scan");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(uncompressed));
    // The baseline gets the same 256 KiB buffers as the scan (io::copy's
    // 8 KiB buffer would make decompression look slower than it is).
    g.bench_function("decompress_only", |bench| {
        let mut buf = vec![0u8; 256 << 10];
        bench.iter(|| {
            let f = BufReader::with_capacity(256 << 10, File::open(&a.path).unwrap());
            let mut dec = flate2::bufread::MultiGzDecoder::new(f);
            let mut total = 0u64;
            loop {
                let n = dec.read(&mut buf).unwrap();
                if n == 0 {
                    break total;
                }
                total += n as u64;
            }
        })
    });
    g.bench_function("scan_one_thread", |bench| {
        bench.iter(|| scan_file(&a, false))
    });
    g.bench_function("scan_pipelined", |bench| bench.iter(|| scan_file(&a, true)));
    g.throughput(Throughput::Bytes(uncompressed + uncompressed_b));
    for (name, pipelined) in [
        ("two_layers_parallel_pipelined", true),
        ("two_layers_parallel_one_thread", false),
    ] {
        g.bench_function(name, |bench| {
            bench.iter(|| {
                std::thread::scope(|s| {
                    let h = s.spawn(|| scan_file(&b, pipelined));
                    scan_file(&a, pipelined) + h.join().unwrap()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(scan_benches, benches);
criterion_main!(scan_benches);
