//! Statistical tests and distances used by drift detection, each matching the definition of
//! the SciPy function named in its documentation. Inputs are plain slices, so the same code
//! serves work profiles and CSV tables.

pub mod auc;
pub mod binning;
pub mod categorical;
pub mod kolmogorov;
pub mod ks;
pub mod numeric;
