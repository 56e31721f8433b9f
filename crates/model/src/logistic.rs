//! L2-regularised logistic regression trained by dual coordinate descent, after Yu, Huang and
//! Lin, "Dual coordinate descent methods for logistic regression and maximum entropy models"
//! (Machine Learning 85, 2011), the method of LIBLINEAR's `-s 7`.
//!
//! The dual problem is
//!
//! ```text
//!   min_α  ½ αᵀQα + Σ_i [α_i ln α_i + (C − α_i) ln(C − α_i)],   0 < α_i < C,
//! ```
//!
//! with `Q_ij = y_i y_j x_iᵀx_j` and `w = Σ y_i α_i x_i`. Each coordinate step minimises the
//! one-variable function of `α_i` by Newton's method. To keep the step accurate near a bound,
//! the variable solved for is `z = α_i` or `z = C − α_i`, whichever the optimum lies closer
//! to zero in. The outer loop stops when the largest sub-problem gradient of a pass falls
//! below `tolerance`. There is no shrinking, because the entropy terms keep every α_i inside
//! the bounds.

use features::CsrMatrix;

use crate::solver::{prefetch, prefetch_row, sparse_dot, BinarySolution, SolverSettings, SplitMix64, PREFETCH_DISTANCE};

/// Newton steps allowed per sub-problem.
const MAX_NEWTON_STEPS: usize = 100;
/// Newton tolerance on the sub-problem gradient at the start; it shrinks as passes need
/// fewer Newton steps.
const INITIAL_INNER_TOLERANCE: f64 = 1e-2;

/// Dual variable and constants of one row.
#[derive(Debug, Clone, Copy)]
struct Coordinate {
    alpha: f64,
    /// `Q_ii = x_iᵀx_i + bias²`.
    q_diagonal: f64,
    /// Class as ±1.
    y: f64,
}

/// Trains one binary logistic regression; the arguments are those of
/// [`crate::solver::solve_dual_cd`].
pub fn solve_logistic_dual(
    x: &CsrMatrix,
    squared_norms: &[f64],
    positive: &[bool],
    settings: &SolverSettings,
    seed: u64,
) -> BinarySolution {
    let rows = x.n_rows();
    let c = settings.c;
    let bias = settings.bias;

    // Start strictly inside (0, C), near 0, so the logarithms are finite.
    let initial_alpha = (1e-3 * c).min(1e-8);
    let mut coordinates: Vec<Coordinate> = squared_norms
        .iter()
        .zip(positive)
        .map(|(norm, &is_positive)| Coordinate {
            alpha: initial_alpha,
            q_diagonal: norm + bias * bias,
            y: if is_positive { 1.0 } else { -1.0 },
        })
        .collect();
    let mut w = vec![0f64; x.n_cols];
    let mut w_bias = 0f64;
    for (row, coordinate) in coordinates.iter().enumerate() {
        let (indices, values) = x.row(row);
        let step = coordinate.y * coordinate.alpha;
        for (&index, &value) in indices.iter().zip(values) {
            w[index as usize] += step * f64::from(value);
        }
        w_bias += step * bias;
    }

    let mut order: Vec<u32> = (0..rows as u32).collect();
    let mut rng = SplitMix64::new(seed);
    let min_inner_tolerance = settings.tolerance.min(1e-8);
    let mut inner_tolerance = INITIAL_INNER_TOLERANCE;
    let mut iterations = 0;
    let mut converged = false;

    while iterations < settings.max_iter {
        iterations += 1;
        for position in 0..rows {
            let other = position + rng.below(rows - position);
            order.swap(position, other);
        }

        let mut largest_gradient = 0f64;
        let mut newton_steps = 0usize;
        for position in 0..rows {
            if let Some(&ahead) = order.get(position + PREFETCH_DISTANCE) {
                prefetch_row(x, ahead as usize);
                prefetch(coordinates.as_ptr().wrapping_add(ahead as usize));
            }
            let i = order[position] as usize;
            let Coordinate { alpha, q_diagonal: a, y } = coordinates[i];
            let (indices, values) = x.row(i);
            // b = y_i wᵀx_i, the derivative of ½αᵀQα along α_i.
            let b = y * (sparse_dot(&w, indices, values) + w_bias * bias);

            // Solve for z = α_i (sign +1) or z = C − α_i (sign −1). The derivative of the
            // sub-problem in z is a (z − z_old) + sign·b + ln(z / (C − z)).
            let (sign, z_old) = if 0.5 * a * ((c - alpha) - alpha) + b < 0.0 { (-1.0, c - alpha) } else { (1.0, alpha) };
            let mut z = z_old;
            if c - z < 0.5 * c {
                z *= 0.1;
            }
            let derivative = |z: f64| a * (z - z_old) + sign * b + (z / (c - z)).ln();
            let mut gradient = derivative(z);
            largest_gradient = largest_gradient.max(gradient.abs());

            let mut steps = 0;
            while steps < MAX_NEWTON_STEPS && gradient.abs() >= inner_tolerance {
                let curvature = a + c / ((c - z) * z);
                let next = z - gradient / curvature;
                // A step past 0 would leave the domain, so shrink toward 0 instead.
                z = if next <= 0.0 { z * 0.1 } else { next };
                gradient = derivative(z);
                steps += 1;
            }
            newton_steps += steps;

            if steps > 0 {
                let new_alpha = if sign > 0.0 { z } else { c - z };
                coordinates[i].alpha = new_alpha;
                let step = (new_alpha - alpha) * y;
                for (&index, &value) in indices.iter().zip(values) {
                    w[index as usize] += step * f64::from(value);
                }
                w_bias += step * bias;
            }
        }

        if largest_gradient < settings.tolerance {
            converged = true;
            break;
        }
        // Once a pass needs few Newton steps, the sub-problems are solved more precisely.
        if newton_steps <= rows / 10 {
            inner_tolerance = (0.1 * inner_tolerance).max(min_inner_tolerance);
        }
    }

    BinarySolution { weights: w, bias_weight: w_bias, iterations, converged }
}
