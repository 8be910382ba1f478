//! `throttled_fleet`: a fleet calling one throttled API, with the SDK's retry modes, the local
//! governor and the shared governor (see `run.rs`). Prints a markdown table, then one JSON line.
//!
//! ```text
//! cargo bench -p aws-settle --features fleet,ssm --bench throttled_fleet            # R=50, 4×16, 60 s each
//! cargo bench -p aws-settle --features fleet,ssm --bench throttled_fleet -- --quick # the CI smoke shape
//!   options: --rate R --members P --tasks T --seconds S --only <substring of a variant>
//! ```
//!
//! Each member is this binary run again as an OS process (see `run.rs`).

mod run;

fn main() {
    if run::member_main_if_asked() {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut shape =
        if args.iter().any(|a| a == "--quick") { run::Shape::quick() } else { run::Shape::full() };
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--rate" => shape.rate = value().parse().expect("--rate: a number"),
            "--members" => shape.members = value().parse().expect("--members: a count"),
            "--tasks" => shape.tasks = value().parse().expect("--tasks: a count"),
            "--seconds" => shape.seconds = value().parse().expect("--seconds: a number"),
            "--only" => only = Some(value()),
            _ => {} // --quick, and cargo bench's own --bench
        }
    }
    let launcher = run::Launcher::this_binary(&[]);
    let before = run::machine();
    let mut rows = Vec::new();
    for variant in run::Variant::ALL {
        let figures_name = format!("{variant:?}");
        if only.as_deref().is_some_and(|o| !figures_name.to_lowercase().contains(&o.to_lowercase())) {
            continue;
        }
        eprintln!("throttled_fleet: {figures_name} ...");
        rows.push(run::run(variant, shape, &launcher));
    }
    let after = run::machine();
    println!("Machine: {before} at the start, {after} at the end.\n");
    println!("{}", run::table(shape, &rows));
    println!(
        "{}",
        serde_json::json!({ "shape": shape, "machine": { "start": before, "end": after }, "rows": rows })
    );
}
