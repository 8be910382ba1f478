//! Every `waiters-2.json` botocore ships loads. botocore comes with the test bed's moto venv,
//! which this test installs if it is missing (so it never passes without having looked).

use aws_settle::wait::Model;

#[test]
fn every_botocore_waiter_model_in_the_testbed_venv_loads() {
    // botocore 1.44.8 ships with moto 5.2.5 (crates/settle-testbed/python/moto-constraints.txt).
    settle_testbed::ensure_moto_venv()
        .unwrap_or_else(|e| panic!("the test bed could not install moto (and botocore): {e}"));
    let lib = settle_testbed::venv_dir().join("lib");
    let root = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e}", lib.display()))
        .filter_map(|e| e.ok().map(|e| e.path().join("site-packages/botocore/data")))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("no botocore/data under {}: the venv is broken", lib.display()));
    let mut count = 0;
    for service in std::fs::read_dir(&root).unwrap().flatten() {
        for version in std::fs::read_dir(service.path()).into_iter().flatten().flatten() {
            let file = version.path().join("waiters-2.json");
            if file.is_file() {
                Model::from_path(&file).unwrap_or_else(|e| panic!("{e}"));
                count += 1;
            }
        }
    }
    println!("{count} botocore waiter models loaded from {}", root.display());
    assert!(count >= 100, "{count}");
}
