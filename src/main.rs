fn main() {
    std::process::exit(archsim::cli::main());
}
