//! Finding (or installing) mmdebstrap and running it, keeping the end of its output for
//! error messages.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use super::ImageBuildError;
use crate::progress::Progress;

/// How many lines of a failed command's output an error message shows.
const TAIL_LINES: usize = 20;

/// Returns the path of mmdebstrap, installing it with apt-get when we are root on a
/// Debian-like system.
pub(crate) async fn ensure_installed(progress: &dyn Progress) -> Result<PathBuf, ImageBuildError> {
    if let Some(path) = find_on_path("mmdebstrap") {
        return Ok(path);
    }
    if !is_root() || find_on_path("apt-get").is_none() {
        return Err(ImageBuildError::MmdebstrapMissing);
    }
    progress.info("installing mmdebstrap with apt-get (needed to build the image)");
    let waiting = progress.wait("installing mmdebstrap with apt-get");
    install_with_apt().await?;
    drop(waiting);
    find_on_path("mmdebstrap").ok_or(ImageBuildError::MmdebstrapMissing)
}

async fn install_with_apt() -> Result<(), ImageBuildError> {
    let install = ["install", "-y", "mmdebstrap"];
    let first = run_captured("apt-get", &install, "install mmdebstrap").await?;
    if first.success {
        return Ok(());
    }
    // A fresh machine (or container) may have no package lists yet.
    if !lacks_package_lists(&first.tail) {
        return Err(first.into_install_error());
    }
    let update = run_captured("apt-get", &["update"], "update the package lists").await?;
    if !update.success {
        return Err(update.into_install_error());
    }
    let second = run_captured("apt-get", &install, "install mmdebstrap").await?;
    if second.success {
        Ok(())
    } else {
        Err(second.into_install_error())
    }
}

fn lacks_package_lists(apt_output: &str) -> bool {
    apt_output.contains("Unable to locate package")
        || apt_output.contains("has no installation candidate")
}

/// The outcome of a command whose output we only keep the end of.
pub(crate) struct Captured {
    pub(crate) success: bool,
    pub(crate) status: String,
    pub(crate) tail: String,
}

impl Captured {
    fn into_install_error(self) -> ImageBuildError {
        ImageBuildError::MmdebstrapInstall {
            status: self.status,
            stderr_tail: self.tail,
        }
    }
}

/// Runs `program` with stdout and stderr captured (only the last lines are kept).
pub(crate) async fn run_captured<S: AsRef<OsStr>>(
    program: impl AsRef<OsStr>,
    args: &[S],
    purpose: &'static str,
) -> Result<Captured, ImageBuildError> {
    let program = program.as_ref();
    let mut child = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ImageBuildError::Spawn {
            program: program.to_string_lossy().into_owned(),
            purpose,
            source,
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (status, stdout_tail, stderr_tail) =
        tokio::join!(child.wait(), last_lines(stdout), last_lines(stderr));
    let status = status.map_err(|source| ImageBuildError::Spawn {
        program: program.to_string_lossy().into_owned(),
        purpose,
        source,
    })?;
    // Errors go to stderr; stdout only helps when stderr is empty.
    let tail = if stderr_tail.is_empty() {
        stdout_tail
    } else {
        stderr_tail
    };
    Ok(Captured {
        success: status.success(),
        status: status.to_string(),
        tail: tail.into_iter().collect::<Vec<_>>().join("\n"),
    })
}

/// Reads `reader` to the end, keeping its last [`TAIL_LINES`] lines.
async fn last_lines(reader: impl AsyncRead + Unpin) -> VecDeque<String> {
    let mut reader = BufReader::new(reader);
    let mut tail = VecDeque::with_capacity(TAIL_LINES);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(String::from_utf8_lossy(&line).trim_end().to_owned());
            }
        }
    }
    tail
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// /proc/self belongs to the process's effective user.
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn run_captured_keeps_the_last_lines_of_stderr() {
        let captured = run_captured(
            "sh",
            &[
                "-c",
                "for i in $(seq 1 50); do echo line $i >&2; done; echo out; exit 3",
            ],
            "test",
        )
        .await
        .unwrap();
        assert!(!captured.success);
        assert!(captured.status.contains('3'), "{}", captured.status);
        let lines: Vec<&str> = captured.tail.lines().collect();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines[0], "line 31");
        assert_eq!(lines[TAIL_LINES - 1], "line 50");
    }

    #[test]
    fn apt_errors_for_missing_lists_are_recognised() {
        assert!(lacks_package_lists(
            "E: Unable to locate package mmdebstrap"
        ));
        assert!(!lacks_package_lists(
            "E: Could not get lock /var/lib/dpkg/lock-frontend"
        ));
    }

    #[test]
    fn sh_is_found_on_path() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("devdb-no-such-program").is_none());
    }
}
