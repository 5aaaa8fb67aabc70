//! The terminal side of [`Progress`]: a spinner for waits and one bar per image layer on a
//! terminal; plain step lines (and nothing else) when stderr is not one, as in CI logs.
//! Each spinner belongs to the guard of its wait, and the layer bars to the guard of
//! [`Progress::layers`].

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{Progress, Shown};

pub(crate) struct TerminalProgress {
    live: bool,
    bars: MultiProgress,
    layers: Mutex<HashMap<String, ProgressBar>>,
}

impl Default for TerminalProgress {
    fn default() -> Self {
        let live =
            std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let target = if live {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        TerminalProgress {
            live,
            bars: MultiProgress::with_draw_target(target),
            layers: Mutex::new(HashMap::new()),
        }
    }
}

impl Progress for TerminalProgress {
    fn info(&self, message: &str) {
        if self.live {
            let _ = self.bars.println(message);
        } else {
            eprintln!("{message}");
        }
    }

    fn note(&self, message: &str) {
        if self.live {
            let _ = self.bars.println(message);
        }
    }

    fn wait(&self, message: &str) -> Shown<'_> {
        if !self.live {
            return Shown::nothing();
        }
        let spinner = self.bars.add(ProgressBar::new_spinner());
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
        );
        spinner.set_message(message.to_string());
        spinner.enable_steady_tick(Duration::from_millis(80));
        Shown::until_dropped(move || spinner.finish_and_clear())
    }

    fn layers(&self) -> Shown<'_> {
        Shown::until_dropped(|| {
            for (_, bar) in self.layers.lock().expect("not poisoned").drain() {
                bar.finish_and_clear();
            }
        })
    }

    fn layer(&self, id: &str, status: &str, current: Option<u64>, total: Option<u64>) {
        if !self.live {
            return;
        }
        let mut layers = self.layers.lock().expect("not poisoned");
        let bar = layers.entry(id.to_string()).or_insert_with(|| {
            let bar = self.bars.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template("{prefix} {msg:<12} [{bar:30}] {bytes}/{total_bytes}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(id.chars().take(12).collect::<String>());
            bar
        });
        bar.set_message(status.to_string());
        if let Some(total) = total.filter(|t| *t > 0) {
            bar.set_length(total);
        }
        if let Some(current) = current {
            bar.set_position(current);
        }
    }
}
