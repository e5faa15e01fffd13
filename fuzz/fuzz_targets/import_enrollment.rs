//! Enrollment.csv through the station's import (`scanstation::import::import_path`): the project's
//! fixture export with this one file replaced by the input. Property: a refused import leaves
//! every table as it was.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use scanstation_fuzz::ImportBench;

thread_local! {
    static BENCH: RefCell<ImportBench> = RefCell::new(ImportBench::new());
}

fuzz_target!(|data: &[u8]| {
    BENCH.with(|b| b.borrow_mut().import_with("Enrollment.csv", data));
});
