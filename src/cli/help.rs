//! The long help of each command: what it does beyond its flags, examples
//! and exit codes (clap's `after_help`).

/// The reference forms every command accepts (skopeo's transport words).
macro_rules! references {
    () => {
        "References (skopeo's transports):
  docker://HOST/REPO:TAG, docker://HOST/REPO@sha256:…  a registry image
  HOST/REPO:TAG                 the same, when HOST has a dot, a port or is localhost
  NAME[:TAG], USER/NAME[:TAG]   Docker Hub, as docker reads them (docker.io/library/NAME)
  oci:DIR[:REF], oci:DIR@sha256:…  an OCI layout directory (no REF: every image in it)
  oci-archive:FILE[:REF]        an OCI layout in a tar
  docker-archive:FILE[:REF]     `docker save` / `podman save` output; FILE - reads stdin
  docker-daemon:NAME[:TAG], docker-daemon:sha256:ID
                                an image of the Docker or Podman engine at DOCKER_HOST
  containers-storage:NAME       Podman's storage, through its service (podman system service)
  containerd:[NAMESPACE/]NAME[:TAG]
                                containerd's image store (CONTAINERD_ADDRESS; no NAMESPACE:
                                k8s.io, then default)
  docker-daemon:*, containers-storage:*, containerd:NAMESPACE/*
                                every image the engine holds (untagged ones too with --all)"
    };
}

/// How strata exits.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  success
  1  a gate or policy failed (or a difference was found with --exit-code)
  2  error: bad arguments or input, unreachable source, failed verification"
    };
}

pub(super) const ROOT_HELP: &str = concat!(
    references!(),
    "

Examples:
  strata footprint alpine:3.19 python:3.12-alpine
  docker save app:1 | strata footprint docker-archive:-
  strata footprint --measure uncompressed docker-daemon:app:1 docker-daemon:app:2
  strata completions bash > ~/.local/share/bash-completion/completions/strata

",
    exit_codes!()
);

pub(super) const FOOTPRINT_HELP: &str = concat!(
    "Examples:
  strata footprint oci:./layout                      every image of a layout
  strata footprint reg.example/app:1 reg.example/worker:1
  strata footprint 'reg.example/fam/*:1' --shallow   a family, from manifests alone
  strata footprint docker-daemon:app:1 --format json | jq .set

",
    references!(),
    "

",
    exit_codes!()
);

pub(super) const PACKAGES_HELP: &str = concat!(
    "Examples:
  strata packages oci:./layout:app                 every package, biggest first
  strata packages docker-daemon:app:1 --ecosystem python,npm --sort name
  strata packages app:1 --format json | jq -r '.packages[].purl'
  strata packages oci:./layout:app --format cyclonedx > app.cdx.json   an SBOM with sizes

",
    references!(),
    "

",
    exit_codes!()
);

pub(super) const COMPARE_HELP: &str = concat!(
    "Examples:
  strata compare oci:./fat --vs oci:./lean --left-name fat --right-name lean
  strata compare 'reg.example/kolla/*:1' --vs 'reg.example/tripleo/*:1' --shallow
  strata compare oci:./a --vs oci:./b --pair api=api-server --deploy api,worker

Images pair by repository basename (oci: layouts: the tag), then by that name
minus a prefix common to the family (fat-nova ~ lean-nova); --pair A=B by hand.
Unpaired images are listed, never dropped.

",
    references!(),
    "

",
    exit_codes!()
);

pub(super) const DU_HELP: &str = concat!(
    "Examples:
  strata du oci:./layout:app                   the merged filesystem, two levels deep
  strata du docker-daemon:app:1 /usr/lib --depth 1
  strata du alpine:3.19 --layer 1              the base layer's own content

",
    references!(),
    "

",
    exit_codes!()
);

pub(super) const CAT_HELP: &str = concat!(
    "Examples:
  strata cat debian:12 /etc/os-release             as a container sees it (links followed)
  strata cat oci:./layout:app /app/config.json --layer 3
  strata cat app:1 /usr/bin/app --force | xxd | head   binary bytes to a terminal need --force

The bytes are streamed from the layer blob that holds the file and checked
against the layer index; the blob's digest and diff_id are verified at its end.

",
    references!(),
    "

",
    exit_codes!()
);

pub(super) const EXPORT_HELP: &str = concat!(
    "Examples:
  strata export app:1 -o app.tar                   the merged filesystem (as crane export)
  strata export oci:./layout:app --layer 2 -o layer2.tar
  strata export docker-daemon:app:1 -o - | tar -tvf -

Without --layer: one entry per path the image shows, the last writer's,
whiteouts applied and left out. With --layer: that layer's tar stream, checked
against its diff_id as it is written (a mismatch removes the file).

",
    references!(),
    "

",
    exit_codes!()
);

pub(super) const LAYERS_HELP: &str = "Examples:\n  strata layers docker-archive:app.tar\n  strata layers --format json docker://registry.example/team/api:1.4\n\nExit codes: 0 ok, 2 error (one line on stderr).";

pub(super) const AUDIT_HELP: &str = "Examples:\n  strata audit docker-archive:app.tar --layer 3\n  strata audit oci:layout:app --layer sha256:4abad3abe3cb --format markdown\n\nExit codes: 0 ok, 2 error (one line on stderr).";

pub(super) const DIFF_HELP: &str = "Examples:\n  strata diff docker://reg.example/app/api:1 docker://reg.example/app/api-dev:1\n  strata diff --only files --depth 3 oci:layout:prod oci:layout:dev --format markdown\n\nExit codes: 0 ok (with --exit-code: the images' files are the same), 1 they differ (--exit-code), 2 error.";

pub(super) const GATE_HELP: &str = "Examples:\n  strata gate --policy strata.toml docker://reg.example/app/api:2\n  strata gate --write-baseline base.json docker://reg.example/app/api:1\n  strata gate --policy strata.toml --baseline base.json --junit gate.xml --format markdown REF...\n\nExit codes: 0 pass (warnings allowed), 1 a fail rule tripped, 2 error — whatever the format.";

pub(super) const ADVISE_HELP: &str = "Kinds: deleted-later, overwritten-later, metadata-only-copy, package-manager-leftovers, dev-tooling, build-cache, test-folder, build-only-content, duplicate-content, big-file, custom (a policy's own).\n\nExamples:\n  strata advise docker-archive:app.tar\n  strata advise --kind deleted-later,metadata-only-copy --min-bytes 1MB oci:layout:app\n  strata advise --policy strata.toml oci:layout:app   # its [advise] extra rules and kinds off\n\nExit codes: 0 ok, 2 error (one line on stderr).";

pub(super) const CACHE_HELP: &str =
    "strata keeps one index per layer digest in its cache ($XDG_CACHE_HOME/strata, \
--cache-dir, STRATA_CACHE_DIR), marked as its own by a CACHEDIR.TAG. It only ever deletes \
files it made there; in a directory it did not make, it keeps its cache in DIR/strata.\n\n\
With --shared-cache (STRATA_SHARED_CACHE), `push` fills a team's shared cache for a set \
of images and `pull` warms the local cache from it.\n\n\
Examples:\n  strata cache du\n  strata cache prune --older-than 30d --max-size 2GB\n  \
du -sh \"$(strata cache path)\"\n  \
strata cache push --shared-cache docker://registry.example/team/strata-cache debian:12 python:3.12\n\n\
Exit codes: 0 ok, 2 error (one line on stderr).";

pub(super) const HISTORY_HELP: &str = "A registry repository without a tag means all of its tags; a glob may stand for the tag. Tags are ordered by when each image was made (its config's `created`; with --shallow, its manifest's org.opencontainers.image.created annotation).\n\nExamples:\n  strata history docker://reg.example/team/api\n  strata history --shallow 'docker://reg.example/team/api:v1.*' --format markdown\n  strata history --policy strata.toml docker://reg.example/team/api --format html > api.html\n\nExit codes: 0 ok, 2 error (one line on stderr).";

pub(super) const EXPLORE_HELP: &str = "Examples:\n  strata explore docker-archive:app.tar\n  strata explore oci:layout:app\n  NO_COLOR=1 strata explore docker-daemon:app:1\n\nNeeds a terminal. Exit codes: 0 ok, 2 error (one line on stderr).";

pub(super) const FLEET_HELP: &str =
    "A fleet records a registry's images in Redis (--queue, STRATA_FLEET_QUEUE) \
under the keys strata:fleet:NAME:…, and queues one job per distinct layer the shared cache \
(--shared-cache, STRATA_SHARED_CACHE) lacks. Workers on any number of machines scan the jobs \
and push each result to the shared cache; the report then reads no layer blob.\n\n\
Examples:\n  strata fleet plan --queue redis://redis:6379/0 'docker://registry.example/**'\n  \
strata fleet work --queue redis://redis:6379/0 --until-empty\n  \
strata fleet status --queue redis://redis:6379/0\n  \
strata fleet report --queue redis://redis:6379/0 --format markdown > registry.md\n  \
strata fleet clear --queue redis://redis:6379/0\n\n\
Exit codes: 0 ok (a worker stopped by SIGTERM too), 2 error (one line on stderr).";
