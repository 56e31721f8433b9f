//! The `topicops` command line: parses arguments, runs the subcommand, maps the outcome to
//! an exit code (0 success, 1 the job ran but failed its goal, 2 usage or input error).

fn main() {
    println!("topicops {}", env!("CARGO_PKG_VERSION"));
}
