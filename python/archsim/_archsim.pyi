"""Type stubs of the native module (see ``python/src/lib.rs``); use the wrappers in
``archsim`` rather than these functions directly."""

from typing import List, Optional, Tuple

__version__: str

class InputError(ValueError): ...
class InternalError(RuntimeError): ...

def run_json(
    config: str,
    workloads: List[str],
    topologies: List[str],
    gemms: List[str],
    model: Optional[str],
    phase: str,
    batch: int,
    seq: int,
    context: int,
    fused_attention: bool,
    recompute: bool,
    dtype: Optional[str],
    mode: Optional[str],
) -> Tuple[str, Optional[str]]: ...
def compare_json(
    config: str,
    vs: Optional[str],
    workloads: List[str],
    models: List[str],
    out: Optional[str],
) -> str: ...
def sweep_csv(
    config: str,
    sweep_path: Optional[str],
    sweep_text: Optional[str],
    sweep_name: str,
    mode: Optional[str],
    max_points: int,
) -> str: ...
def train_json(
    system: str,
    model: str,
    chips: Optional[int],
    global_batch: int,
    seq: int,
    plan: Optional[str],
    slice: Optional[str],
    dtype: Optional[str],
    fused_attention: bool,
    tokens: Optional[float],
    compare: Optional[str],
    power_mw: Optional[float],
) -> str: ...
def serve_json(
    system: str,
    model: str,
    chips: int,
    input_len: int,
    output_len: int,
    scenario: str,
    ttft_ms: float,
    tpot_ms: float,
    dtype: Optional[str],
    kv_dtype: Optional[str],
    rate: Optional[float],
    chunked_prefill: Optional[int],
    plan: Optional[str],
    compare: Optional[str],
    disaggregate: Optional[str],
) -> str: ...
def collective_json(
    system: str, chips: int, slice: Optional[str], op: str, bytes: str
) -> str: ...
def load_config_json(spec: str) -> str: ...
def shipped(what: str) -> List[str]: ...
def ops_csv(report_json: str) -> str: ...
