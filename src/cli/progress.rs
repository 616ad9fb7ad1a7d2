//! Progress bars on stderr (indicatif), driven by the library's progress callbacks. Hidden when
//! quiet or when stderr is not a terminal.

use archsim::compare::Progress;
use archsim::jobs::sweep::SweepProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;

/// A bar hidden when quiet or when stderr is not a terminal.
fn stderr_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
}

/// The two-step bar of a comparison (one step per machine).
pub struct CompareBar {
    bar: ProgressBar,
}

impl CompareBar {
    pub fn new(quiet: bool) -> Self {
        let bar = stderr_bar(2, quiet);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        CompareBar { bar }
    }

    pub fn update(&mut self, p: Progress) {
        self.bar.set_position(p.machine_index as u64);
        if p.machine_index >= p.machines {
            self.bar.finish_and_clear();
        } else {
            self.bar
                .set_message(format!("simulating {} ops on {}", p.ops, p.label));
        }
    }
}

/// The sweep bar: points with rate and ETA.
pub struct SweepBar {
    bar: ProgressBar,
}

impl SweepBar {
    pub fn new(quiet: bool) -> Self {
        let bar = stderr_bar(0, quiet);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} sweep [{elapsed_precise}] {wide_bar} {pos}/{len} points ({rate}, ETA {eta})",
            )
            .expect("valid template")
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} points/s", s.per_sec());
            }),
        );
        SweepBar { bar }
    }

    pub fn update(&self, p: SweepProgress) {
        match p {
            SweepProgress::Start { points, done } => {
                self.bar.set_length(points);
                self.bar.set_position(done);
                self.bar.reset_eta();
            }
            SweepProgress::Point => self.bar.inc(1),
            SweepProgress::Finish { ok: true } => self.bar.finish_and_clear(),
            SweepProgress::Finish { ok: false } => self.bar.abandon(),
        }
    }
}
