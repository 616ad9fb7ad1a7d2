//! Units and their human-readable forms: one place that scales times and energies to SI
//! prefixes, for tables (fixed decimals, ASCII `us`) and plots (three significant digits, `µs`).
//! Machine-readable outputs (JSON, CSV) never go through here: they carry the raw value with the
//! unit in the key (`time_s`, `energy_pj`).

/// `self.f += other.f` for each named field: the sum of two counter-like records
/// ([`crate::energy::Counters`], [`crate::energy::EnergyBreakdown`],
/// [`crate::machine::TimeBreakdown`]).
macro_rules! add_fields {
    ($self:ident, $other:ident; $($f:ident),+ $(,)?) => {
        $($self.$f += $other.$f;)+
    };
}
pub(crate) use add_fields;

/// Multiply the named `f64` fields of a struct by a factor, in place.
macro_rules! scale_fields {
    ($self:ident, $k:expr; $($f:ident),+ $(,)?) => {
        $($self.$f *= $k;)+
    };
}
pub(crate) use scale_fields;

/// One SI step: values with |v| ≥ `from` are shown as `v × scale` in `unit`.
type Step = (f64, f64, &'static str);

/// The first step (largest first) whose `from` is ≤ |v|, the last one when |v| is below all of
/// them: `(v × scale, unit)`.
fn si(v: f64, steps: &[Step]) -> (f64, &'static str) {
    let a = v.abs();
    let &(_, scale, unit) = steps
        .iter()
        .find(|(from, _, _)| a >= *from)
        .unwrap_or_else(|| steps.last().expect("at least one SI step"));
    (v * scale, unit)
}

/// Time steps for tables: s, ms, us, ns (ASCII so fixed-width columns line up).
const TIME_ASCII: [Step; 4] = [
    (1.0, 1.0, "s"),
    (1e-3, 1e3, "ms"),
    (1e-6, 1e6, "us"),
    (0.0, 1e9, "ns"),
];
/// Time steps for plots: s, ms, µs, ns.
const TIME_MICRO: [Step; 4] = [
    (1.0, 1.0, "s"),
    (1e-3, 1e3, "ms"),
    (1e-6, 1e6, "µs"),
    (0.0, 1e9, "ns"),
];

/// Seconds for tables: three decimals with an SI prefix ("1.234 ms"), one decimal in ns.
pub fn fmt_time(s: f64) -> String {
    let (v, u) = si(s, &TIME_ASCII);
    if u == "ns" {
        format!("{v:.1} {u}")
    } else {
        format!("{v:.3} {u}")
    }
}

/// Energy in pJ for tables: three decimals with an SI prefix (J, mJ, uJ, nJ), one decimal in pJ.
pub fn fmt_energy(pj: f64) -> String {
    const STEPS: [Step; 5] = [
        (1.0, 1.0, "J"),
        (1e-3, 1e3, "mJ"),
        (1e-6, 1e6, "uJ"),
        (1e-9, 1e9, "nJ"),
        (0.0, 1e12, "pJ"),
    ];
    let (v, u) = si(pj * 1e-12, &STEPS);
    if u == "pJ" {
        format!("{pj:.1} pJ")
    } else {
        format!("{v:.3} {u}")
    }
}

/// Seconds for plot labels: three significant digits ("850 ns", "12.3 µs", "1.20 s"); "–" when
/// not finite.
pub fn fmt_time_short(s: f64) -> String {
    if !s.is_finite() {
        return "–".into();
    }
    let (v, u) = if s == 0.0 {
        (0.0, "s")
    } else {
        si(s, &TIME_MICRO)
    };
    format!("{} {u}", fmt_sig(v))
}

/// Joules for plot labels: three significant digits with an SI prefix (J, mJ, µJ, nJ).
pub fn fmt_energy_short(j: f64) -> String {
    if !j.is_finite() {
        return "–".into();
    }
    const STEPS: [Step; 4] = [
        (1.0, 1.0, "J"),
        (1e-3, 1e3, "mJ"),
        (1e-6, 1e6, "µJ"),
        (0.0, 1e9, "nJ"),
    ];
    let (v, u) = if j == 0.0 { (0.0, "J") } else { si(j, &STEPS) };
    format!("{} {u}", fmt_sig(v))
}

/// Three significant digits, no exponent for everyday magnitudes (1e-3 ≤ |v| < 1e6).
pub fn fmt_sig(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// USD with 4 decimals (small amounts in scientific notation).
pub fn fmt_usd(v: f64) -> String {
    if v == 0.0 || v.abs() >= 0.01 {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// Seeded draws for the unit tests that compare a fast model with its reference on random
/// inputs (xorshift64, Marsaglia 2003: reproducible, no dependency).
#[cfg(test)]
pub(crate) struct TestRng(u64);

#[cfg(test)]
impl TestRng {
    pub(crate) fn new(seed: u64) -> TestRng {
        TestRng(seed.max(1))
    }

    /// A draw in `[0, n)`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_forms() {
        assert_eq!(fmt_time(2.0), "2.000 s");
        assert_eq!(fmt_time(1.5e-3), "1.500 ms");
        assert_eq!(fmt_time(2.5e-6), "2.500 us");
        assert_eq!(fmt_time(3e-8), "30.0 ns");
        assert_eq!(fmt_energy(2e12), "2.000 J");
        assert_eq!(fmt_energy(5e6), "5.000 uJ");
        assert_eq!(fmt_energy(12.0), "12.0 pJ");
    }

    #[test]
    fn plot_forms() {
        assert_eq!(fmt_time_short(8.5e-7), "850 ns");
        assert_eq!(fmt_time_short(1.23e-5), "12.3 µs");
        assert_eq!(fmt_time_short(0.0), "0 s");
        assert_eq!(fmt_time_short(f64::NAN), "–");
        assert_eq!(fmt_energy_short(2.5e-3), "2.50 mJ");
        assert_eq!(fmt_sig(0.5), "0.5");
        assert_eq!(fmt_sig(1.5e7), "1.50e7");
        assert_eq!(fmt_usd(0.001), "1.000e-3");
    }
}
