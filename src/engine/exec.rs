//! Running a command inside a container and collecting what it printed, for the tools
//! that must match the server's version (`pg_dump` of a schema).

use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use super::{Engine, EngineError, api};

/// What a finished command printed, and how it exited.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    /// `None` when the engine did not report one.
    pub exit_code: Option<i64>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

impl Engine {
    /// Runs `cmd` in the running container `container` with extra environment variables
    /// (`NAME=value`), without a terminal, and waits for it. The output is held in memory:
    /// for commands that print little (a schema, a version), not for data dumps.
    pub async fn exec_output(
        &self,
        container: &str,
        cmd: &[&str],
        env: &[String],
    ) -> Result<ExecOutput, EngineError> {
        let program = cmd.first().copied().unwrap_or_default();
        let action = format!("running {program} in container {container}");
        let options = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
            env: Some(env.to_vec()),
            ..Default::default()
        };
        let exec = self
            .docker
            .create_exec(container, options)
            .await
            .map_err(api(action.clone()))?;
        let mut output = ExecOutput {
            exit_code: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        match self
            .docker
            .start_exec(&exec.id, None)
            .await
            .map_err(api(action.clone()))?
        {
            StartExecResults::Attached {
                output: mut stream, ..
            } => {
                while let Some(item) = stream.next().await {
                    match item.map_err(api(action.clone()))? {
                        bollard::container::LogOutput::StdErr { message } => {
                            output.stderr.extend_from_slice(&message)
                        }
                        other => output.stdout.extend_from_slice(&other.into_bytes()),
                    }
                }
            }
            StartExecResults::Detached => {}
        }
        let inspected = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(api(action))?;
        output.exit_code = inspected.exit_code;
        Ok(output)
    }
}
