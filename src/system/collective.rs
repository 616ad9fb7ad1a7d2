//! Collectives on a system's networks: all-reduce, all-gather, reduce-scatter, all-to-all and
//! send/recv, costed with alpha-beta terms per network level and the algorithm a library would
//! pick (formulas: shared/reference/pod/INTERCONNECT.md §3, summarized in docs/SYSTEMS.md).
//!
//! A [`Group`] is the set of ranks a collective runs over, as laid out on the hardware: a list of
//! levels, innermost first (a switch domain or torus axes, then the fat tree or DCN). Sizes follow
//! nccl-tests: `bytes` is the whole array for all-reduce, all-gather and reduce-scatter, the
//! per-rank buffer for all-to-all and send/recv; `algbw = bytes / time` and `busbw = algbw ×`
//! the nccl-tests factor (`doc/PERFORMANCE.md`).

use super::config::{Link, ScaleOutKind, ScaleUp, SystemConfig, Wrap};
use crate::error::{Error, Result};
use serde::Serialize;
use std::str::FromStr;

/// A collective operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Collective {
    AllReduce,
    AllGather,
    ReduceScatter,
    AllToAll,
    SendRecv,
}

impl Collective {
    pub fn as_str(self) -> &'static str {
        match self {
            Collective::AllReduce => "all-reduce",
            Collective::AllGather => "all-gather",
            Collective::ReduceScatter => "reduce-scatter",
            Collective::AllToAll => "all-to-all",
            Collective::SendRecv => "send-recv",
        }
    }
    /// nccl-tests' bus-bandwidth factor for `n` ranks (`doc/PERFORMANCE.md`).
    pub fn busbw_factor(self, n: u64) -> f64 {
        let n = n.max(1) as f64;
        match self {
            Collective::AllReduce => 2.0 * (n - 1.0) / n,
            Collective::AllGather | Collective::ReduceScatter | Collective::AllToAll => {
                (n - 1.0) / n
            }
            Collective::SendRecv => 1.0,
        }
    }
}

impl FromStr for Collective {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "all-reduce" | "allreduce" => Collective::AllReduce,
            "all-gather" | "allgather" => Collective::AllGather,
            "reduce-scatter" | "reducescatter" => Collective::ReduceScatter,
            "all-to-all" | "alltoall" => Collective::AllToAll,
            "send-recv" | "sendrecv" | "p2p" => Collective::SendRecv,
            _ => {
                return Err(format!(
                    "unknown collective `{s}`; expected all-reduce, all-gather, reduce-scatter, all-to-all or send-recv"
                ))
            }
        })
    }
}

/// What one level of a group is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LevelKind {
    /// Ranks in one switch domain (NVLink + NVSwitch); `nvls`: in-switch all-reduce efficiency.
    Switch { nvls: Option<f64> },
    /// Torus axes: (ranks along the axis, wraparound).
    Torus { axes: Vec<(u64, bool)> },
    /// Ranks in different nodes on the fat tree (one NIC share each).
    FatTree,
    /// Ranks in different slices on the data-center network.
    Dcn,
}

/// One level of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    pub ranks: u64,
    pub kind: LevelKind,
    pub link: Link,
}

impl Level {
    /// One-way bytes/s a rank moves on this level for a collective over `msg` bytes at this
    /// level: `bandwidth · efficiency / (1 + size_half / msg)` (the size term adds a fixed
    /// `size_half / (bandwidth · efficiency)` per collective: protocol and pipelining start-up
    /// that large messages amortize); on a torus the links of every axis used
    /// at once, both directions of a ring with wraparound (scaling book, "Sharding": a
    /// bidirectional ring moves `S/W`, and multi-axis collectives `S/(k·W)`), one direction of a
    /// mesh axis without.
    fn bandwidth(&self, msg: f64) -> f64 {
        self.bandwidth_with(msg, self.link.size_half_bytes)
    }

    /// [`Level::bandwidth`] for the low-latency protocol a library uses for small messages
    /// (NCCL's LL: no pipelining start-up, a quarter of the bandwidth; NCCL `tuning.cc`); the
    /// slower of the two per transfer is never chosen, see [`Level::transfer`].
    fn bandwidth_ll(&self) -> f64 {
        self.bandwidth_with(f64::INFINITY, 0.0) / 4.0
    }

    /// Time to move `moved` bytes per rank of a collective over `msg` bytes at this level: the
    /// faster of the large-message protocol ([`Level::bandwidth`]) and, where the size term is
    /// non-zero, the low-latency one.
    fn transfer(&self, moved: f64, msg: f64) -> f64 {
        let simple = moved / self.bandwidth(msg);
        if self.link.size_half_bytes > 0.0 {
            simple.min(moved / self.bandwidth_ll())
        } else {
            simple
        }
    }

    fn bandwidth_with(&self, msg: f64, size_half: f64) -> f64 {
        let l = &self.link;
        let links = match &self.kind {
            LevelKind::Torus { axes } => axes
                .iter()
                .filter(|(n, _)| *n > 1)
                .map(|(_, wrap)| if *wrap { 2.0 } else { 1.0 })
                .sum::<f64>()
                .max(1.0),
            _ => 1.0,
        };
        let size = if msg > 0.0 {
            1.0 / (1.0 + size_half / msg)
        } else {
            0.0
        };
        (l.bandwidth_bytes_per_s * l.efficiency * links * size).max(1.0)
    }
    /// Latency steps of a ring pass: `n − 1` on a switch, fat tree or DCN ring; on a torus the
    /// hops of the farthest rank along each axis, `⌈(n−1)/2⌉` with wraparound, `n − 1` without.
    fn ring_steps(&self) -> f64 {
        match &self.kind {
            LevelKind::Torus { axes } => axes
                .iter()
                .map(|&(n, wrap)| {
                    if wrap {
                        ((n - 1) as f64 / 2.0).ceil()
                    } else {
                        (n - 1) as f64
                    }
                })
                .sum(),
            _ => (self.ranks - 1) as f64,
        }
    }
}

/// Ranks of a collective as laid out on a system, innermost level first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub levels: Vec<Level>,
}

/// The cost of one collective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveCost {
    pub op: Collective,
    pub ranks: u64,
    pub bytes: f64,
    pub time_s: f64,
    pub algbw_gbps: f64,
    pub busbw_gbps: f64,
    /// The algorithm chosen, e.g. "ring", "nvls", "hierarchical ring (switch + fat tree)".
    pub algorithm: String,
}

/// The document `archsim collective --format json` prints (`archsim schema collective`).
/// Bandwidths by the nccl-tests definitions (nccl-tests `doc/PERFORMANCE.md`): `algbw = bytes /
/// time_s`, `busbw = algbw × factor` (all-reduce `2(n-1)/n`; all-gather, reduce-scatter and
/// all-to-all `(n-1)/n`; send-recv 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct CollectiveJson {
    /// The system's name (`configs/systems/NAME.toml`).
    pub system: String,
    /// Ranks (chips) taking part.
    pub chips: u64,
    /// Torus: the slice shape each rank group is placed on, e.g. `[4, 4, 4]`; switch: `[chips in
    /// one domain]`.
    pub slice: Vec<u64>,
    /// Slices (TPU, joined by DCN) or domains (GPU, joined by the fat tree) the ranks span.
    pub slices: u64,
    /// The collective: `all-reduce`, `all-gather`, `reduce-scatter`, `all-to-all` or
    /// `send-recv`.
    pub op: String,
    /// Message size in bytes, as nccl-tests' "size".
    pub bytes: f64,
    /// Time of the collective.
    pub time_s: f64,
    /// Algorithm bandwidth: bytes / time_s, in GB/s (10^9 bytes/s).
    pub algbw_gbps: f64,
    /// Bus bandwidth: algbw × the op's nccl-tests factor, in GB/s (10^9 bytes/s).
    pub busbw_gbps: f64,
    /// The algorithm chosen, e.g. "ring", "nvls", "hierarchical ring (switch + fat tree)".
    pub algorithm: String,
}

impl Group {
    /// Ranks in the group.
    pub fn ranks(&self) -> u64 {
        self.levels.iter().map(|l| l.ranks).product::<u64>().max(1)
    }

    /// The cost of `op` on `bytes` (nccl-tests size) over this group.
    pub fn cost(&self, op: Collective, bytes: f64) -> CollectiveCost {
        let n = self.ranks();
        let levels: Vec<&Level> = self.levels.iter().filter(|l| l.ranks > 1).collect();
        let (time_s, algorithm) = if n <= 1 || bytes <= 0.0 {
            (0.0, "none".to_string())
        } else {
            let base = levels
                .iter()
                .map(|l| l.link.base_latency_s)
                .fold(0.0, f64::max);
            let (t, alg) = match op {
                Collective::AllGather | Collective::ReduceScatter => {
                    (gather(&levels, bytes, n), describe("ring", &levels))
                }
                Collective::AllReduce => all_reduce(&levels, bytes),
                Collective::AllToAll => {
                    (all_to_all(&levels, bytes, n), describe("pairwise", &levels))
                }
                Collective::SendRecv => {
                    let l = levels
                        .last()
                        .expect("a group of more than one rank has a level");
                    (
                        l.link.latency_s + l.transfer(bytes, bytes),
                        describe("p2p", &levels),
                    )
                }
            };
            (base + t, alg)
        };
        let algbw = if time_s > 0.0 { bytes / time_s } else { 0.0 };
        CollectiveCost {
            op,
            ranks: n,
            bytes,
            time_s,
            algbw_gbps: algbw / 1e9,
            busbw_gbps: algbw * op.busbw_factor(n) / 1e9,
            algorithm,
        }
    }
}

fn level_name(l: &Level) -> &'static str {
    match l.kind {
        LevelKind::Switch { .. } => "switch",
        LevelKind::Torus { .. } => "torus",
        LevelKind::FatTree => "fat tree",
        LevelKind::Dcn => "dcn",
    }
}

fn describe(alg: &str, levels: &[&Level]) -> String {
    let names: Vec<&str> = levels.iter().map(|l| level_name(l)).collect();
    if levels.len() > 1 {
        format!("hierarchical {alg} ({})", names.join(" + "))
    } else {
        format!("{alg} ({})", names.first().copied().unwrap_or("none"))
    }
}

/// All-gather (= reduce-scatter) of `s` bytes over the levels, done hierarchically slowest level
/// first (so the slow level moves the smallest pieces): level j moves
/// `(n_j − 1) · s/N · Π(n of the levels before it)` bytes per rank at its bandwidth, plus its
/// ring latency (INTERCONNECT.md §3.3, two-level form; one level is the ring
/// `(N−1)/N · S/B`).
fn gather(levels: &[&Level], s: f64, n: u64) -> f64 {
    let mut order: Vec<&Level> = levels.to_vec();
    order.sort_by(|a, b| {
        a.bandwidth(f64::INFINITY)
            .partial_cmp(&b.bandwidth(f64::INFINITY))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut chunk = s / n as f64;
    let mut t = 0.0;
    for l in order {
        let moved = (l.ranks - 1) as f64 * chunk;
        t += l.transfer(moved, chunk * l.ranks as f64) + l.ring_steps() * l.link.latency_s;
        chunk *= l.ranks as f64;
    }
    t
}

/// All-reduce: reduce-scatter + all-gather per level, except that a switch level with in-network
/// reduction (NVLS) reduces its share in the switch at `bandwidth · nvls_efficiency`
/// (`S_level / B`, scaling book "GPUs"), and a scale-out level may use a double binary tree for
/// small messages (`2·log2(n)` steps of latency, twice the ring's bandwidth time; NCCL's tree
/// algBw = busBw/2). The cheaper of ring and tree/NVLS is taken per level.
fn all_reduce(levels: &[&Level], s: f64) -> (f64, String) {
    let mut order: Vec<&Level> = levels.to_vec();
    order.sort_by(|a, b| {
        a.bandwidth(f64::INFINITY)
            .partial_cmp(&b.bandwidth(f64::INFINITY))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // Reduce-scatter the fast levels first is what a hierarchical all-reduce does: the slow level
    // then all-reduces the smallest piece. Here: per level, the data it carries is s divided by
    // the ranks of the faster levels.
    let mut t = 0.0;
    let mut algs = Vec::new();
    let faster = |i: usize| -> f64 { order[i + 1..].iter().map(|l| l.ranks as f64).product() };
    for (i, l) in order.iter().enumerate() {
        let data = s / faster(i);
        let nl = l.ranks as f64;
        let chunk = data / nl;
        let ring =
            l.transfer(2.0 * (nl - 1.0) * chunk, data) + 2.0 * l.ring_steps() * l.link.latency_s;
        let mut best = (ring, "ring");
        match l.kind {
            LevelKind::Switch { nvls: Some(eff) } => {
                let bw = l.link.bandwidth_bytes_per_s * eff
                    / (1.0 + l.link.size_half_bytes / data.max(1.0));
                let nvls = data / bw + 2.0 * l.link.latency_s;
                if nvls < best.0 {
                    best = (nvls, "nvls");
                }
            }
            LevelKind::FatTree | LevelKind::Dcn => {
                let tree = l.transfer(2.0 * data, data) + 2.0 * nl.log2().ceil() * l.link.latency_s;
                if tree < best.0 {
                    best = (tree, "tree");
                }
            }
            _ => {}
        }
        t += best.0;
        algs.push(format!("{} {}", best.1, level_name(l)));
    }
    let alg = if algs.len() > 1 {
        format!("hierarchical ({})", algs.join(" + "))
    } else {
        algs.join("")
    };
    (t, alg)
}

/// All-to-all of `s` bytes per rank: level j carries the share of each rank's data addressed to
/// ranks reached through it, `s · (P_j − P_{j−1}) / N` (P = ranks of the levels up to j), at its
/// bandwidth; a torus level is bisection-bound: `s · max_axis / (4 · links)` one-way-link
/// equivalents (scaling book: `S·max(A,B,C)/(4·N·W)` for the whole array, W bidirectional).
/// Levels run at once; latency `⌈log2 N⌉` steps of the outermost level.
fn all_to_all(levels: &[&Level], s: f64, n: u64) -> f64 {
    let mut inner = 1.0;
    let mut t: f64 = 0.0;
    for l in levels {
        let outer = inner * l.ranks as f64;
        let share = s * (outer - inner) / n as f64;
        let lt = match &l.kind {
            LevelKind::Torus { axes } => {
                let max_axis = axes.iter().map(|a| a.0).max().unwrap_or(1) as f64;
                let wrap_all = axes.iter().all(|a| a.1 || a.0 <= 1);
                let per_link = l.link.bandwidth_bytes_per_s * l.link.efficiency;
                let bisection_factor = if wrap_all { 8.0 } else { 4.0 };
                s * (outer - inner) / outer * max_axis / (bisection_factor * per_link)
            }
            _ => l.transfer(share, s),
        };
        t = t.max(lt);
        inner = outer;
    }
    let lat = levels.last().map_or(0.0, |l| l.link.latency_s);
    t + (n as f64).log2().ceil() * lat
}

/// Where a run's chips sit: the torus slice shape (TPU) or the switch domains (GPU), and how
/// many slices are joined by the scale-out level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    pub chips: u64,
    /// Torus: the slice shape; switch: `[chips in one domain]`.
    pub slice: Vec<u64>,
    /// Slices (TPU, joined by DCN) or domains (GPU, joined by the fat tree).
    pub slices: u64,
    /// Wraparound per slice axis (torus).
    pub wrap: Vec<bool>,
}

/// Place `chips` on a system: GPUs fill whole switch domains; TPUs take one slice of the pod
/// (`slice` when given, else the most cubic supported shape, preferring whole 4×4×4 cubes on
/// cube-wrapped pods), and more chips than a pod holds take several pod-sized slices over DCN.
pub fn place(sys: &SystemConfig, chips: u64, slice: Option<&[u64]>) -> Result<Placement> {
    if chips == 0 {
        return Err(Error::setting("chips", "chips = 0: must be at least 1"));
    }
    if chips > 1 << 24 {
        return Err(Error::setting(
            "chips",
            format!("chips = {chips} is more than the supported 2^24"),
        ));
    }
    if let Some(max) = sys.max_chips {
        if chips > max {
            return Err(Error::setting(
                "chips",
                format!("chips = {chips}: {} holds at most {max} chips", sys.name),
            ));
        }
    }
    match &sys.scale_up {
        ScaleUp::Switch { domain_chips, .. } => {
            if slice.is_some() {
                return Err(Error::setting(
                    "slice",
                    format!(
                        "{} is a switched GPU system: --slice applies to TPU tori",
                        sys.name
                    ),
                ));
            }
            let d = *domain_chips;
            if chips <= d {
                return Ok(Placement {
                    chips,
                    slice: vec![chips],
                    slices: 1,
                    wrap: vec![],
                });
            }
            if !chips.is_multiple_of(d) {
                return Err(Error::setting(
                    "chips",
                    format!(
                        "chips = {chips} is not a whole number of {d}-GPU {} domains",
                        sys.name
                    ),
                ));
            }
            if sys.scale_out.is_none() {
                return Err(Error::setting(
                    "chips",
                    format!("{} has no scale-out network: at most {d} chips", sys.name),
                ));
            }
            Ok(Placement {
                chips,
                slice: vec![d],
                slices: chips / d,
                wrap: vec![],
            })
        }
        ScaleUp::Torus { pod_shape, wrap } => {
            let pod: u64 = pod_shape.iter().product();
            let (shape, slices) = match slice {
                Some(s) => {
                    let per: u64 = s.iter().product();
                    if s.len() != pod_shape.len() {
                        return Err(Error::setting(
                            "slice",
                            format!(
                                "{} slices have {} axes, not {}",
                                sys.name,
                                pod_shape.len(),
                                s.len()
                            ),
                        ));
                    }
                    if !fits(s, pod_shape) {
                        return Err(Error::setting(
                            "slice",
                            format!(
                                "slice {} does not fit the {} pod {}",
                                fmt_shape(s),
                                sys.name,
                                fmt_shape(pod_shape)
                            ),
                        ));
                    }
                    if !chips.is_multiple_of(per) {
                        return Err(Error::setting(
                            "chips",
                            format!(
                                "chips = {chips} is not a whole number of {} slices ({per} chips)",
                                fmt_shape(s)
                            ),
                        ));
                    }
                    (s.to_vec(), chips / per)
                }
                None if chips <= pod => {
                    let s = best_shape(chips, pod_shape, *wrap).ok_or_else(|| {
                        Error::setting(
                            "chips",
                            format!(
                                "no slice of the {} pod {} holds exactly {chips} chips; give a power of two or --slice",
                                sys.name,
                                fmt_shape(pod_shape)
                            ),
                        )
                    })?;
                    (s, 1)
                }
                None => {
                    // Several slices over DCN: the largest power-of-two slice that divides
                    // chips and has a shape in the pod.
                    let mut per = 1u64 << (63 - pod.leading_zeros());
                    loop {
                        if chips.is_multiple_of(per) {
                            if let Some(s) = best_shape(per, pod_shape, *wrap) {
                                break (s, chips / per);
                            }
                        }
                        if per == 1 {
                            return Err(Error::setting(
                                "chips",
                                format!(
                                    "chips = {chips}: no slice shape of {} divides it",
                                    sys.name
                                ),
                            ));
                        }
                        per /= 2;
                    }
                }
            };
            if slices > 1 && sys.scale_out.is_none() {
                return Err(Error::setting(
                    "chips",
                    format!("{} has no DCN: at most one slice", sys.name),
                ));
            }
            let wraps = wraps(&shape, pod_shape, *wrap);
            Ok(Placement {
                chips,
                slice: shape,
                slices,
                wrap: wraps,
            })
        }
    }
}

fn fmt_shape(s: &[u64]) -> String {
    s.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// Whether a slice fits a pod (axes compared sorted).
fn fits(s: &[u64], pod: &[u64]) -> bool {
    let mut a = s.to_vec();
    let mut b = pod.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a.iter().zip(&b).all(|(x, y)| x <= y) && a.iter().all(|&x| x >= 1)
}

/// Wraparound per axis of a slice (scaling book, "TPUs"): cube-wrapped pods close every axis of
/// a slice made of whole 4×4×4 cubes and none of smaller ones; full-axis pods close an axis only
/// with the pod's full length.
fn wraps(shape: &[u64], pod: &[u64], rule: Wrap) -> Vec<bool> {
    match rule {
        Wrap::Cube => {
            let cubes = shape.iter().all(|&a| a.is_multiple_of(4));
            shape.iter().map(|&a| cubes && a > 2).collect()
        }
        Wrap::FullAxis => {
            let full = pod.iter().copied().max().unwrap_or(0);
            shape.iter().map(|&a| a == full && a > 2).collect()
        }
    }
}

/// The most cubic slice of `n` chips that fits the pod: axes powers of two or multiples of 4,
/// preferring shapes whose every axis wraps, then the smallest longest axis.
fn best_shape(n: u64, pod: &[u64], rule: Wrap) -> Option<Vec<u64>> {
    let cands: Vec<u64> = (1..=pod.iter().copied().max().unwrap_or(1))
        .filter(|&a| a.is_power_of_two() || a.is_multiple_of(4))
        .collect();
    let mut best: Option<(bool, u64, Vec<u64>)> = None;
    let mut consider = |s: Vec<u64>| {
        if s.iter().product::<u64>() != n || !fits(&s, pod) {
            return;
        }
        let w = wraps(&s, pod, rule);
        let all_wrap = s.iter().zip(&w).all(|(&a, &x)| x || a <= 2);
        let longest = *s.iter().max().unwrap_or(&1);
        let key = (!all_wrap, longest);
        if best.as_ref().is_none_or(|(aw, l, _)| key < (*aw, *l)) {
            best = Some((key.0, key.1, s));
        }
    };
    match pod.len() {
        2 => {
            for &a in &cands {
                for &b in &cands {
                    if a <= b {
                        consider(vec![a, b]);
                    }
                }
            }
        }
        _ => {
            for &a in &cands {
                for &b in &cands {
                    for &c in &cands {
                        if a <= b && b <= c {
                            consider(vec![a, b, c]);
                        }
                    }
                }
            }
        }
    }
    best.map(|(_, _, s)| s)
}

impl Placement {
    /// The group of ranks of parallel dimension `range` of `dims` (sizes innermost first, their
    /// product = chips): ranks that differ only in those dimensions. GPU: a dimension whose
    /// stride (product of the inner dimensions) is below the domain size has `domain / stride`
    /// of its ranks in the switch domain and the rest across the fat tree. TPU: dimensions take
    /// torus axes in order (a whole axis, or a sub-ring of one — which wraps only when it is the
    /// whole axis of a wrapped slice), and what no slice axis holds spans slices over DCN.
    pub fn group(
        &self,
        sys: &SystemConfig,
        dims: &[u64],
        range: std::ops::Range<usize>,
    ) -> Result<Group> {
        let stride: u64 = dims[..range.start].iter().product();
        let size: u64 = dims[range.clone()].iter().product();
        let mut levels = Vec::new();
        match &sys.scale_up {
            ScaleUp::Switch {
                in_network_reduction,
                nvls_efficiency,
                ..
            } => {
                let d = self.slice[0];
                let inside = if stride >= d {
                    1
                } else {
                    gcd(size, d / stride)
                };
                let outside = size / inside;
                if inside > 1 {
                    levels.push(Level {
                        ranks: inside,
                        kind: LevelKind::Switch {
                            nvls: in_network_reduction.then_some(*nvls_efficiency),
                        },
                        link: sys.scale_up_link.clone(),
                    });
                }
                if outside > 1 {
                    let (_, link) = sys.scale_out.clone().ok_or_else(|| {
                        Error::setting("chips", format!("{} has no scale-out network", sys.name))
                    })?;
                    levels.push(Level {
                        ranks: outside,
                        kind: LevelKind::FatTree,
                        link,
                    });
                }
            }
            ScaleUp::Torus { .. } => {
                let usage = self.axis_usage(dims)?;
                let mut axes: Vec<(u64, bool)> = vec![(1, false); self.slice.len()];
                let mut dcn = 1;
                for u in &usage[range.clone()] {
                    for &(axis, len) in &u.0 {
                        axes[axis].0 *= len;
                        axes[axis].1 = len == self.slice[axis] && self.wrap[axis];
                    }
                    dcn *= u.1;
                }
                let axes: Vec<(u64, bool)> = axes.into_iter().filter(|a| a.0 > 1).collect();
                let ici: u64 = axes.iter().map(|a| a.0).product();
                if ici > 1 {
                    levels.push(Level {
                        ranks: ici,
                        kind: LevelKind::Torus { axes },
                        link: sys.scale_up_link.clone(),
                    });
                }
                if dcn > 1 {
                    let (kind, link) = sys.scale_out.clone().ok_or_else(|| {
                        Error::setting("chips", format!("{} has no DCN", sys.name))
                    })?;
                    levels.push(Level {
                        ranks: dcn,
                        kind: if kind == ScaleOutKind::Dcn {
                            LevelKind::Dcn
                        } else {
                            LevelKind::FatTree
                        },
                        link,
                    });
                }
            }
        }
        Ok(Group { levels })
    }

    /// For each dimension: the (axis, ranks) it takes in the slice and the slices it spans.
    #[allow(clippy::type_complexity)]
    fn axis_usage(&self, dims: &[u64]) -> Result<Vec<(Vec<(usize, u64)>, u64)>> {
        let mut left = self.slice.clone();
        let mut slices_left = self.slices;
        let mut out = Vec::new();
        for &d in dims {
            let mut g = d;
            let mut used = Vec::new();
            for (i, r) in left.iter_mut().enumerate() {
                if g == 1 {
                    break;
                }
                if *r == 1 {
                    continue;
                }
                let take = gcd(g, *r);
                if take > 1 {
                    used.push((i, take));
                    *r /= take;
                    g /= take;
                }
            }
            let mut dcn = 1;
            if g > 1 {
                if !slices_left.is_multiple_of(g) {
                    return Err(Error::setting(
                        "plan",
                        format!(
                            "a parallel degree of {d} does not map onto the slice {} x {} slices",
                            fmt_shape(&self.slice),
                            self.slices
                        ),
                    ));
                }
                slices_left /= g;
                dcn = g;
            }
            out.push((used, dcn));
        }
        Ok(out)
    }

    /// The group of all chips.
    pub fn all(&self, sys: &SystemConfig) -> Result<Group> {
        self.group(sys, &[self.chips], 0..1)
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
