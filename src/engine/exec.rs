//! Commands run inside a container through the engine's exec API, with their stdin and
//! stdout attached as byte streams: how dumps leave the database container and come back
//! into it without a docker command line and without holding them in memory.
//!
//! There is no TTY, so the engine multiplexes stdout and stderr in frames and binary data
//! passes through untouched. The caller reads [`Exec::output`] chunk by chunk (the engine
//! stops sending while the caller is busy writing), writes to [`Exec::input`] and shuts it
//! down to send end-of-file, then asks [`Engine::exec_exit_code`] how the command ended.

use std::pin::Pin;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWrite;

use super::{Engine, EngineError, api};

/// What to run: the command line and extra environment (`KEY=value`).
#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    /// Attach stdin; without it the command reads end-of-file at once.
    pub stdin: bool,
}

/// A piece of a running command's output.
#[derive(Debug, Clone)]
pub enum ExecChunk {
    Stdout(Bytes),
    Stderr(Bytes),
}

/// A started command. Read `output` to its end before asking for the exit code.
pub struct Exec {
    pub id: String,
    /// What the command is, for error messages ("pg_dump in demo-db-1").
    pub label: String,
    pub output: Pin<Box<dyn Stream<Item = Result<ExecChunk, EngineError>> + Send>>,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

/// How long to wait for the engine to notice that a command whose output ended has exited.
const EXIT_WAIT: Duration = Duration::from_secs(10);

impl Engine {
    /// Starts `spec` in `container` with stdout and stderr attached (and stdin if asked).
    pub async fn exec(&self, container: &str, spec: &ExecSpec) -> Result<Exec, EngineError> {
        let program = spec.cmd.first().cloned().unwrap_or_default();
        let label = format!("{program} in {container}");
        let config = ExecConfig {
            cmd: Some(spec.cmd.clone()),
            env: Some(spec.env.clone()),
            attach_stdin: Some(spec.stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(container, config)
            .await
            .map_err(api(format!("creating an exec of {label}")))?;
        let options = StartExecOptions {
            detach: false,
            tty: false,
            // The frame buffer's starting size; the engine sends frames of up to 32 KiB.
            output_capacity: Some(64 * 1024),
        };
        let started = self
            .docker
            .start_exec(&created.id, Some(options))
            .await
            .map_err(api(format!("starting {label}")))?;
        let StartExecResults::Attached { output, input } = started else {
            unreachable!("an exec started without detach is attached");
        };
        let action = format!("reading the output of {label}");
        let output = output.map(move |item| {
            item.map(|frame| match frame {
                LogOutput::StdErr { message } => ExecChunk::Stderr(message),
                other => ExecChunk::Stdout(other.into_bytes()),
            })
            .map_err(api(action.clone()))
        });
        Ok(Exec {
            id: created.id,
            label,
            output: Box::pin(output),
            input,
        })
    }

    /// The exit code of a finished exec. The engine may report it running for a moment
    /// after its output ended, so this polls briefly.
    pub async fn exec_exit_code(&self, exec: &Exec) -> Result<i64, EngineError> {
        let deadline = tokio::time::Instant::now() + EXIT_WAIT;
        let mut pause = Duration::from_millis(2);
        loop {
            let inspect = self
                .docker
                .inspect_exec(&exec.id)
                .await
                .map_err(api(format!("inspecting {}", exec.label)))?;
            match (inspect.running, inspect.exit_code) {
                (Some(false), Some(code)) => return Ok(code),
                _ if tokio::time::Instant::now() >= deadline => {
                    return Ok(inspect.exit_code.unwrap_or(-1));
                }
                _ => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
            }
        }
    }
}

/// Keeps the last `limit` bytes of a command's stderr for its error message.
#[derive(Debug)]
pub(crate) struct StderrTail {
    bytes: Vec<u8>,
    limit: usize,
}

impl StderrTail {
    pub(crate) fn new(limit: usize) -> Self {
        StderrTail {
            bytes: Vec::new(),
            limit,
        }
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > self.limit {
            let cut = self.bytes.len() - self.limit;
            self.bytes.drain(..cut);
        }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stderr_tail_keeps_the_last_bytes() {
        let mut tail = StderrTail::new(8);
        tail.push(b"hello ");
        tail.push(b"world\n");
        assert_eq!(tail.text(), "o world");
    }
}

/// What a finished command printed, and how it exited.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Engine {
    /// Runs `spec` to its end and collects its output in memory: for commands that print
    /// little (a schema dump), not for data dumps, which go through [`Engine::exec`].
    pub async fn exec_output(
        &self,
        container: &str,
        spec: &ExecSpec,
    ) -> Result<ExecOutput, EngineError> {
        let mut exec = self.exec(container, spec).await?;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        while let Some(chunk) = exec.output.next().await {
            match chunk? {
                ExecChunk::Stdout(bytes) => stdout.extend_from_slice(&bytes),
                ExecChunk::Stderr(bytes) => stderr.extend_from_slice(&bytes),
            }
        }
        let exit_code = self.exec_exit_code(&exec).await?;
        Ok(ExecOutput {
            exit_code,
            stdout,
            stderr,
        })
    }
}
