//! Runs a real Lambda binary against a [`RuntimeApi`], with the environment Lambda gives a
//! `provided.al2023` function, its output captured to a file, and killed on drop.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::{oneshot, watch};

use crate::moto::workspace_root;
use crate::runtime_api::RuntimeApi;

/// Variables passed through from this process; everything else is cleared so that nothing from
/// the developer's shell (`AWS_PROFILE`, `HOME`'s `~/.aws`, real credentials) reaches the function.
const PASSED_THROUGH: &[&str] = &["PATH", "RUST_LOG", "RUST_BACKTRACE", "LANG", "TZ"];

#[derive(Debug, thiserror::Error)]
#[error("could not {action}: {source}")]
pub struct SpawnError {
    action: String,
    #[source]
    source: io::Error,
}

/// A running function process. Killed on drop.
#[derive(Debug)]
pub struct LambdaProcess {
    pid: Option<u32>,
    output_path: PathBuf,
    exit: watch::Receiver<Option<ExitStatus>>,
    // Sending (or dropping) this makes the watcher task kill the process.
    kill: Option<oneshot::Sender<()>>,
}

impl LambdaProcess {
    /// Spawns `binary` against `runtime_api`. `env` is applied last, so it can override the
    /// defaults (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION`, ...). Must run inside a tokio runtime.
    pub fn spawn(
        binary: &Path,
        runtime_api: &RuntimeApi,
        env: &[(&str, &str)],
    ) -> Result<Self, SpawnError> {
        let function_name = env
            .iter()
            .find(|(name, _)| *name == "AWS_LAMBDA_FUNCTION_NAME")
            .map(|(_, value)| (*value).to_owned())
            .or_else(|| {
                binary
                    .file_stem()
                    .and_then(OsStr::to_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| crate::runtime_api::DEFAULT_FUNCTION_NAME.to_owned());
        let output_path = output_file_path(&function_name);
        let output = File::create(&output_path).map_err(|source| SpawnError {
            action: format!("create the output file {}", output_path.display()),
            source,
        })?;
        let output_for_stderr = output.try_clone().map_err(|source| SpawnError {
            action: format!("share the output file {}", output_path.display()),
            source,
        })?;

        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(
                PASSED_THROUGH
                    .iter()
                    .filter_map(|name| std::env::var_os(name).map(|value| (*name, value))),
            )
            .envs(lambda_environment(&function_name, &runtime_api.address()))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(output))
            .stderr(Stdio::from(output_for_stderr))
            // Belt and braces: if the watcher task is dropped with its runtime, the child dies too.
            .kill_on_drop(true);

        runtime_api.process_spawned(&function_name);
        let mut child = command.spawn().map_err(|source| SpawnError {
            action: format!("start the Lambda binary {}", binary.display()),
            source,
        })?;
        let pid = child.id();
        let (exit_sender, exit) = watch::channel(None);
        let (kill, killed) = oneshot::channel::<()>();
        let reporter = runtime_api.exit_reporter();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = killed => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            if let Ok(status) = status {
                reporter.exited(status);
                exit_sender.send_replace(Some(status));
            }
        });
        Ok(Self {
            pid,
            output_path,
            exit,
            kill: Some(kill),
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// How the process ended, or `None` while it runs.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit.borrow()
    }

    /// Waits up to `timeout` for the process to end on its own.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let ended = tokio::time::timeout(timeout, self.exit.wait_for(Option::is_some)).await;
        match ended {
            Ok(Ok(status)) => *status,
            _ => None,
        }
    }

    /// Kills the process and waits until it is gone.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        self.wait_exit(Duration::from_secs(10)).await
    }

    /// The file holding the process's stdout and stderr.
    pub fn output_path(&self) -> &Path {
        &self.output_path
    }

    /// What the process has written so far (stdout and stderr interleaved), for failure messages.
    pub fn output(&self) -> String {
        fs::read(&self.output_path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|error| {
                format!("(could not read {}: {error})", self.output_path.display())
            })
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
    }
}

/// What Lambda sets for a custom runtime (see "Defined runtime environment variables").
fn lambda_environment(function_name: &str, runtime_api: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "Text".to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function_name}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]00000000000000000000000000000000".to_owned(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("AWS_REGION", crate::moto::LOCAL_REGION.to_owned()),
        ("AWS_DEFAULT_REGION", crate::moto::LOCAL_REGION.to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
    ]
}

/// `target/lambda-output/<function>-<this pid>-<n>.log`: unique per spawn, kept after the run so
/// a failing test can point at it.
fn output_file_path(function_name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SPAWNED: AtomicU32 = AtomicU32::new(0);
    let directory = workspace_root().join("target").join("lambda-output");
    // Failing to create it shows up as a clear error when the file is created.
    let _ = fs::create_dir_all(&directory);
    let sequence = SPAWNED.fetch_add(1, Ordering::Relaxed);
    let safe_name: String = function_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    directory.join(format!("{safe_name}-{}-{sequence}.log", std::process::id()))
}
