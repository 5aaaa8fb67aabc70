//! The ways an image build fails, each naming the step and what the user can do about it.

use std::io;
use std::path::PathBuf;

use crate::error::Failure;

/// An image build failed. The message names the step; the source (if any) is the cause.
#[derive(Debug, thiserror::Error)]
pub enum ImageBuildError {
    #[error(
        "devdb cannot build a Postgres {major} image from Debian packages: supported major \
         versions are {supported}; pick one of them or pull an image and set DEVDB_IMAGE"
    )]
    UnsupportedMajor { major: u32, supported: String },

    #[error(
        "mmdebstrap is needed to build a Postgres image: install it with \
         `sudo apt-get install mmdebstrap`, or pull an image and set DEVDB_IMAGE"
    )]
    MmdebstrapMissing,

    #[error(
        "installing mmdebstrap with apt-get failed ({status}): install it by hand with \
         `apt-get install mmdebstrap`, or pull an image and set DEVDB_IMAGE. \
         apt-get said:\n{stderr_tail}"
    )]
    MmdebstrapInstall { status: String, stderr_tail: String },

    #[error("could not start `{program}` to {purpose}")]
    Spawn {
        program: String,
        purpose: &'static str,
        #[source]
        source: io::Error,
    },

    #[error(
        "mmdebstrap could not build the Debian {suite} root filesystem with postgresql-{major} \
         ({status}): check that {mirror} is reachable and that there is free space in the \
         temporary folder. The last lines it wrote:\n{stderr_tail}"
    )]
    Mmdebstrap {
        suite: &'static str,
        major: u32,
        mirror: String,
        status: String,
        stderr_tail: String,
    },

    #[error(
        "could not prepare the scratch folder for the image build in {}: free some space \
         or point TMPDIR at another folder",
        dir.display()
    )]
    Scratch {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("could not read the root filesystem tarball {}", path.display())]
    ReadTarball {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "the Docker engine could not import the root filesystem as an image: check that it is \
         running and has free disk space (`docker system df`)"
    )]
    Import {
        #[source]
        source: bollard::errors::Error,
    },

    #[error("the Docker engine imported the root filesystem but did not report the image id")]
    ImportWithoutId,

    #[error(
        "could not apply the stop signal to the imported image and tag it {tag}: the engine's \
         classic builder (`docker build` without BuildKit) must be available"
    )]
    Finish {
        tag: String,
        #[source]
        source: bollard::errors::Error,
    },

    #[error(
        "the image {tag} was built but its configuration is wrong ({problem}): this Docker \
         engine may not apply import changes; see `docker image inspect {tag}`"
    )]
    Misconfigured { tag: String, problem: String },

    #[error("could not look up the image {tag}: is the Docker engine running?")]
    Inspect {
        tag: String,
        #[source]
        source: bollard::errors::Error,
    },

    #[error(
        "could not take the build lock {}, which keeps two devdb processes from building the \
         same image at once: check that the temporary folder is writable",
        path.display()
    )]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The messages say what to do; an image build has no hint of its own.
impl Failure for ImageBuildError {}
