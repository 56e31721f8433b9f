//! Binary linear classifiers trained by dual coordinate descent (DCD).
//!
//! The algorithm is that of Hsieh, Chang, Lin, Keerthi and Sundararajan, "A Dual Coordinate
//! Descent Method for Large-scale Linear SVM" (ICML 2008), which LIBLINEAR implements as its
//! default solver. For labels `y_i` in {-1, +1} and rows `x_i` it minimises the dual
//!
//! ```text
//!   f(α) = ½ αᵀ Q̄ α − eᵀ α,   0 ≤ α_i ≤ U,   Q̄ = Q + D,   Q_ij = y_i y_j x_iᵀ x_j
//! ```
//!
//! with `U = C, D = 0` for the L1 (hinge) loss and `U = ∞, D_ii = 1 / (2C)` for the L2
//! (squared hinge) loss, keeping `w = Σ y_i α_i x_i` up to date so each coordinate step
//! costs one sparse dot product and one sparse update. Coordinates are visited in a fresh
//! random order each pass. Shrinking (optional) drops coordinates stuck at a bound and
//! re-checks all of them before declaring convergence. The run stops when the spread of the
//! projected gradient over the active set, `max PG − min PG`, falls to `tolerance`.
//!
//! The bias is an extra feature of constant value `bias` appended to every row, so it is
//! regularised like any other weight, as in LIBLINEAR and scikit-learn's `LinearSVC`.
//!
//! NOTE: the `linfa-svm` crate was not used. It solves the kernel dual with SMO, whose cost
//! grows with the square of the number of works, far too slow for a million sparse rows.
//! DCD costs O(nnz) per pass.

use features::CsrMatrix;
use serde::{Deserialize, Serialize};

/// Loss of the one-vs-rest binary problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// L2-regularised L2-loss SVM: `max(0, 1 − y wᵀx)²` (LIBLINEAR `-s 1`).
    SquaredHinge,
    /// L2-regularised L1-loss SVM: `max(0, 1 − y wᵀx)` (LIBLINEAR `-s 3`).
    Hinge,
    /// L2-regularised logistic regression: `ln(1 + exp(−y wᵀx))` (LIBLINEAR `-s 7`), solved
    /// by the dual coordinate descent of the `logistic` module.
    Logistic,
}

/// Settings of one binary DCD run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverSettings {
    /// Cost of a margin violation (inverse regularisation strength).
    pub c: f64,
    pub loss: Loss,
    /// Stopping tolerance on the projected-gradient spread.
    pub tolerance: f64,
    /// Maximum number of passes over the active coordinates.
    pub max_iter: usize,
    pub shrinking: bool,
    /// Value of the constant bias feature; 0 trains without bias.
    pub bias: f64,
}

/// Weights of one binary problem.
#[derive(Debug, Clone, PartialEq)]
pub struct BinarySolution {
    /// One weight per column of the training matrix.
    pub weights: Vec<f64>,
    /// Weight of the bias feature; the decision value is `wᵀx + bias_weight * bias`.
    pub bias_weight: f64,
    /// Passes made over the active coordinates.
    pub iterations: usize,
    /// False when `max_iter` passes ended before the tolerance was met.
    pub converged: bool,
}

/// Minimal SplitMix64 generator for the coordinate order; a fixed seed gives a fixed order
/// on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..bound` by Lemire's multiply-shift (bias below 2⁻³²).
    pub fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

/// How many coordinates ahead of the current one the solver prefetches row data. Rows are
/// visited in random order, so without it each row starts with a cache miss.
pub(crate) const PREFETCH_DISTANCE: usize = 4;

/// Dual variable and constants of one row.
#[derive(Debug, Clone, Copy)]
struct Coordinate {
    alpha: f64,
    q_diagonal: f64,
    /// Class as ±1.
    y: f64,
}

/// Asks the CPU to start loading the cache line at `pointer`.
#[inline(always)]
pub(crate) fn prefetch<T>(pointer: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint. It reads nothing observable and never faults, even
    // for an address outside any allocation.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(pointer.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = pointer;
}

/// Asks the CPU to start loading the first entries of `row` into cache.
#[inline(always)]
pub(crate) fn prefetch_row(x: &CsrMatrix, row: usize) {
    let start = x.indptr[row];
    prefetch(x.indices.as_ptr().wrapping_add(start));
    prefetch(x.values.as_ptr().wrapping_add(start));
}

/// `wᵀx` for a sparse row, with four partial sums so the additions do not wait on each
/// other.
#[inline(always)]
pub(crate) fn sparse_dot(w: &[f64], indices: &[u32], values: &[f32]) -> f64 {
    let mut sums = [0f64; 4];
    let index_chunks = indices.chunks_exact(4);
    let value_chunks = values.chunks_exact(4);
    let (index_rest, value_rest) = (index_chunks.remainder(), value_chunks.remainder());
    for (index_chunk, value_chunk) in index_chunks.zip(value_chunks) {
        for lane in 0..4 {
            sums[lane] += w[index_chunk[lane] as usize] * f64::from(value_chunk[lane]);
        }
    }
    for (&index, &value) in index_rest.iter().zip(value_rest) {
        sums[0] += w[index as usize] * f64::from(value);
    }
    (sums[0] + sums[1]) + (sums[2] + sums[3])
}

/// Squared L2 norm of each row.
pub fn row_squared_norms(x: &CsrMatrix) -> Vec<f64> {
    (0..x.n_rows()).map(|row| x.row(row).1.iter().map(|&v| f64::from(v) * f64::from(v)).sum()).collect()
}

/// Trains one binary classifier with DCD.
///
/// `positive[i]` is true when row `i` is in the positive class; `squared_norms` comes from
/// [`row_squared_norms`] and is shared by all labels of one training matrix.
pub fn solve_dual_cd(
    x: &CsrMatrix,
    squared_norms: &[f64],
    positive: &[bool],
    settings: &SolverSettings,
    seed: u64,
) -> BinarySolution {
    let rows = x.n_rows();
    debug_assert_eq!(positive.len(), rows);
    debug_assert_eq!(squared_norms.len(), rows);
    let (diagonal, upper) = match settings.loss {
        Loss::SquaredHinge => (0.5 / settings.c, f64::INFINITY),
        Loss::Hinge => (0.0, settings.c),
        Loss::Logistic => return crate::logistic::solve_logistic_dual(x, squared_norms, positive, settings, seed),
    };
    let bias = settings.bias;

    let mut w = vec![0f64; x.n_cols];
    let mut w_bias = 0f64;
    // Per-row state side by side, so a randomly visited row costs one cache miss, not three.
    let mut coordinates: Vec<Coordinate> = squared_norms
        .iter()
        .zip(positive)
        .map(|(norm, &is_positive)| Coordinate {
            alpha: 0.0,
            // Q̄_ii = x_iᵀx_i + bias² + D_ii.
            q_diagonal: norm + bias * bias + diagonal,
            y: if is_positive { 1.0 } else { -1.0 },
        })
        .collect();
    let mut order: Vec<u32> = (0..rows as u32).collect();
    let mut active = rows;
    let mut rng = SplitMix64::new(seed);

    let mut pg_max_old = f64::INFINITY;
    let mut pg_min_old = f64::NEG_INFINITY;
    let mut iterations = 0;
    let mut converged = false;

    while iterations < settings.max_iter {
        iterations += 1;
        for position in 0..active {
            let other = position + rng.below(active - position);
            order.swap(position, other);
        }

        let mut pg_max_new = f64::NEG_INFINITY;
        let mut pg_min_new = f64::INFINITY;
        let mut position = 0;
        while position < active {
            if let Some(&ahead) = order.get(position + PREFETCH_DISTANCE) {
                prefetch_row(x, ahead as usize);
                prefetch(coordinates.as_ptr().wrapping_add(ahead as usize));
            }
            let i = order[position] as usize;
            let Coordinate { alpha: alpha_i, q_diagonal, y } = coordinates[i];
            if q_diagonal <= 0.0 {
                position += 1;
                continue;
            }
            let (indices, values) = x.row(i);

            // G = y_i wᵀx_i − 1 + D_ii α_i, the gradient of f along coordinate i.
            let margin = sparse_dot(&w, indices, values) + w_bias * bias;
            let gradient = y * margin - 1.0 + diagonal * alpha_i;

            // Projected gradient; with shrinking, a coordinate at a bound whose gradient
            // points outward past last pass's extreme leaves the active set.
            let projected;
            if alpha_i == 0.0 {
                if settings.shrinking && gradient > pg_max_old {
                    active -= 1;
                    order.swap(position, active);
                    continue;
                }
                projected = gradient.min(0.0);
            } else if alpha_i == upper {
                if settings.shrinking && gradient < pg_min_old {
                    active -= 1;
                    order.swap(position, active);
                    continue;
                }
                projected = gradient.max(0.0);
            } else {
                projected = gradient;
            }
            pg_max_new = pg_max_new.max(projected);
            pg_min_new = pg_min_new.min(projected);

            if projected.abs() > 1e-12 {
                let new_alpha = (alpha_i - gradient / q_diagonal).max(0.0).min(upper);
                coordinates[i].alpha = new_alpha;
                let step = (new_alpha - alpha_i) * y;
                for (&index, &value) in indices.iter().zip(values) {
                    w[index as usize] += step * f64::from(value);
                }
                w_bias += step * bias;
            }
            position += 1;
        }

        if pg_max_new - pg_min_new <= settings.tolerance {
            if active == rows {
                converged = true;
                break;
            }
            // Converged on the shrunk set: re-check every coordinate before stopping.
            active = rows;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max_new <= 0.0 { f64::INFINITY } else { pg_max_new };
        pg_min_old = if pg_min_new >= 0.0 { f64::NEG_INFINITY } else { pg_min_new };
    }

    BinarySolution { weights: w, bias_weight: w_bias, iterations, converged }
}

/// Primal objective `½‖w‖² + C Σ loss_i` with the bias weight regularised, for tests and
/// diagnostics.
pub fn primal_objective(x: &CsrMatrix, positive: &[bool], solution: &BinarySolution, settings: &SolverSettings) -> f64 {
    let regulariser: f64 = solution.weights.iter().map(|w| w * w).sum::<f64>() + solution.bias_weight * solution.bias_weight;
    let mut loss_sum = 0.0;
    for (row, &is_positive) in positive.iter().enumerate() {
        let (indices, values) = x.row(row);
        let mut margin = solution.bias_weight * settings.bias;
        for (&index, &value) in indices.iter().zip(values) {
            margin += solution.weights[index as usize] * f64::from(value);
        }
        let y = if is_positive { 1.0 } else { -1.0 };
        let violation = (1.0 - y * margin).max(0.0);
        loss_sum += match settings.loss {
            Loss::SquaredHinge => violation * violation,
            Loss::Hinge => violation,
            // ln(1 + e^(−m)), written to stay finite for large |m|.
            Loss::Logistic => (-(y * margin)).max(0.0) + (-(y * margin).abs()).exp().ln_1p(),
        };
    }
    0.5 * regulariser + settings.c * loss_sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(loss: Loss) -> SolverSettings {
        SolverSettings { c: 1.0, loss, tolerance: 1e-8, max_iter: 100_000, shrinking: true, bias: 1.0 }
    }

    fn matrix(rows: &[&[(u32, f32)]], n_cols: usize) -> CsrMatrix {
        let mut x = CsrMatrix::new(n_cols);
        for row in rows {
            let indices: Vec<u32> = row.iter().map(|entry| entry.0).collect();
            let values: Vec<f32> = row.iter().map(|entry| entry.1).collect();
            x.push_row(&indices, &values);
        }
        x
    }

    #[test]
    fn random_index_stays_below_bound() {
        let mut rng = SplitMix64::new(7);
        for bound in 1..50 {
            assert!(rng.below(bound) < bound);
        }
    }

    // Two points x = +1 (positive) and x = −1 (negative), bias 1, C = 1, hinge loss.
    // By symmetry b = 0, and the primal ½w² + Σ max(0, 1 − w) is minimised on w ≤ 1 by
    // ½w² + 2(1 − w), whose derivative w − 2 < 0 there, so w = 1 (both points on the margin).
    #[test]
    fn hinge_two_points_by_hand() {
        let x = matrix(&[&[(0, 1.0)], &[(0, -1.0)]], 1);
        let solution = solve_dual_cd(&x, &row_squared_norms(&x), &[true, false], &settings(Loss::Hinge), 1);
        assert!(solution.converged);
        assert!((solution.weights[0] - 1.0).abs() < 1e-6, "{:?}", solution);
        assert!(solution.bias_weight.abs() < 1e-6, "{:?}", solution);
    }

    // Same points, squared hinge: ½w² + 2(1 − w)² has derivative w − 4(1 − w) = 0 at w = 0.8.
    #[test]
    fn squared_hinge_two_points_by_hand() {
        let x = matrix(&[&[(0, 1.0)], &[(0, -1.0)]], 1);
        let solution = solve_dual_cd(&x, &row_squared_norms(&x), &[true, false], &settings(Loss::SquaredHinge), 3);
        assert!(solution.converged);
        assert!((solution.weights[0] - 0.8).abs() < 1e-6, "{:?}", solution);
        assert!(solution.bias_weight.abs() < 1e-6, "{:?}", solution);
    }

    // Same points, logistic loss: with b = 0 by symmetry the primal is ½w² + 2 ln(1 + e^(−w)),
    // whose derivative w − 2 / (1 + e^w) vanishes where w (1 + e^w) = 2 (w ≈ 0.6748).
    #[test]
    fn logistic_two_points_by_hand() {
        let x = matrix(&[&[(0, 1.0)], &[(0, -1.0)]], 1);
        let solution = solve_dual_cd(&x, &row_squared_norms(&x), &[true, false], &settings(Loss::Logistic), 4);
        assert!(solution.converged);
        let w = solution.weights[0];
        assert!((w * (1.0 + w.exp()) - 2.0).abs() < 1e-5, "{:?}", solution);
        assert!(solution.bias_weight.abs() < 1e-6, "{:?}", solution);
    }

    #[test]
    fn shrinking_reaches_same_objective() {
        let x = matrix(
            &[&[(0, 1.0), (2, 0.5)], &[(1, 1.0)], &[(0, 0.3), (1, 0.7)], &[(2, 1.0)], &[(0, 0.9)], &[(1, 0.2), (2, 0.4)]],
            3,
        );
        let labels = [true, false, true, false, true, false];
        let norms = row_squared_norms(&x);
        let with = settings(Loss::SquaredHinge);
        let without = SolverSettings { shrinking: false, ..with };
        let a = solve_dual_cd(&x, &norms, &labels, &with, 11);
        let b = solve_dual_cd(&x, &norms, &labels, &without, 11);
        let objective_a = primal_objective(&x, &labels, &a, &with);
        let objective_b = primal_objective(&x, &labels, &b, &without);
        assert!((objective_a - objective_b).abs() < 1e-6, "{objective_a} vs {objective_b}");
    }

    #[test]
    fn same_seed_gives_same_weights() {
        let x = matrix(&[&[(0, 1.0)], &[(1, 1.0)], &[(0, 0.5), (1, 0.5)]], 2);
        let labels = [true, false, true];
        let loose = SolverSettings { tolerance: 0.5, ..settings(Loss::SquaredHinge) };
        let first = solve_dual_cd(&x, &row_squared_norms(&x), &labels, &loose, 42);
        let second = solve_dual_cd(&x, &row_squared_norms(&x), &labels, &loose, 42);
        assert_eq!(first, second);
    }
}
