//! Command-line interface (clap derive): a thin client of the library.
pub fn main() -> i32 {
    0
}
