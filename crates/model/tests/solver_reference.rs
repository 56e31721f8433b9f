//! The dual coordinate descent solver against scikit-learn's `LinearSVC` (LIBLINEAR) on a
//! small fixed problem, and on separable toy data worked out by hand.

use features::CsrMatrix;
use model::solver::{primal_objective, row_squared_norms, solve_dual_cd, SolverSettings};
use model::Loss;

const ROWS: [[f32; 4]; 10] = [
    [1.0, 0.0, 0.5, 0.0],
    [0.9, 0.2, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.3],
    [0.1, 0.8, 0.0, 0.0],
    [0.5, 0.5, 0.5, 0.5],
    [0.0, 0.0, 1.0, 0.0],
    [0.7, 0.0, 0.0, 0.7],
    [0.0, 0.3, 0.0, 1.0],
    [0.6, 0.4, 0.2, 0.0],
    [0.2, 0.0, 0.9, 0.1],
];
const POSITIVE: [bool; 10] = [true, true, false, false, true, false, true, false, false, true];

fn sparse(rows: &[[f32; 4]]) -> CsrMatrix {
    let mut matrix = CsrMatrix::new(4);
    for row in rows {
        let indices: Vec<u32> = (0..4).filter(|&column| row[column as usize] != 0.0).collect();
        let values: Vec<f32> = indices.iter().map(|&column| row[column as usize]).collect();
        matrix.push_row(&indices, &values);
    }
    matrix
}

fn settings(loss: Loss, c: f64) -> SolverSettings {
    SolverSettings { c, loss, tolerance: 1e-6, max_iter: 100_000, shrinking: true, bias: 1.0 }
}

fn assert_matches(loss: Loss, expected_coef: [f64; 4], expected_intercept: f64) {
    let x = sparse(&ROWS);
    let solution = solve_dual_cd(&x, &row_squared_norms(&x), &POSITIVE, &settings(loss, 0.7), 5);
    assert!(solution.converged);
    for (column, (actual, expected)) in solution.weights.iter().zip(expected_coef).enumerate() {
        assert!((actual - expected).abs() < 1e-4, "{loss:?} coef {column}: {actual} vs {expected}");
    }
    // intercept_ = intercept_scaling * bias weight, with intercept_scaling = 1.
    let intercept = solution.bias_weight;
    assert!((intercept - expected_intercept).abs() < 1e-4, "{loss:?} intercept: {intercept} vs {expected_intercept}");
}

// Reference: scikit-learn 1.9.1 (LIBLINEAR), which regularises the intercept like our bias:
//   import numpy as np; from sklearn.svm import LinearSVC
//   X = np.array(ROWS); y = np.array([1,1,0,0,1,0,1,0,0,1])
//   m = LinearSVC(C=0.7, loss=LOSS, dual=True, tol=1e-6, max_iter=100000,
//                 intercept_scaling=1).fit(X, y)
//   print(m.coef_, m.intercept_)
#[test]
fn squared_hinge_matches_liblinear() {
    assert_matches(
        Loss::SquaredHinge,
        [1.099452847922113, -0.6076246574067696, 0.2477940745936048, 0.1967478595081613],
        -0.3484246765437057,
    );
}

#[test]
fn hinge_matches_liblinear() {
    assert_matches(
        Loss::Hinge,
        [1.1486023272203127, -0.8143551804881881, 0.1543011636101566, 0.1336934458535435],
        -0.22575285326787498,
    );
}

// Reference: scikit-learn 1.9.1 (LIBLINEAR's dual logistic regression solver):
//   from sklearn.linear_model import LogisticRegression
//   m = LogisticRegression(solver="liblinear", dual=True, C=0.7, tol=1e-8, max_iter=100000,
//                          intercept_scaling=1).fit(X, y)
//   print(m.coef_, m.intercept_)
#[test]
fn logistic_matches_liblinear() {
    let x = sparse(&ROWS);
    let config = SolverSettings { tolerance: 1e-8, ..settings(Loss::Logistic, 0.7) };
    let solution = solve_dual_cd(&x, &row_squared_norms(&x), &POSITIVE, &config, 5);
    assert!(solution.converged);
    let expected = [0.6734068235515658, -0.48872861199763323, 0.14614997955405026, 0.015680115138521928];
    for (column, (actual, expected)) in solution.weights.iter().zip(expected).enumerate() {
        assert!((actual - expected).abs() < 1e-4, "coef {column}: {actual} vs {expected}");
    }
    let intercept = solution.bias_weight;
    assert!((intercept - -0.1027916600069034).abs() < 1e-4, "intercept: {intercept}");
}

#[test]
fn seeds_agree_at_tight_tolerance() {
    let x = sparse(&ROWS);
    let norms = row_squared_norms(&x);
    let config = settings(Loss::SquaredHinge, 0.7);
    let first = solve_dual_cd(&x, &norms, &POSITIVE, &config, 1);
    let second = solve_dual_cd(&x, &norms, &POSITIVE, &config, 99);
    for (a, b) in first.weights.iter().zip(&second.weights) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}

// Separable toy data: row (1, 0) positive, row (0, 1) negative, bias 1, hinge loss, C = 10.
// Dual matrix Q̄_ij = y_i y_j (x_iᵀx_j + 1): Q̄₁₁ = Q̄₂₂ = 2 and Q̄₁₂ = −(0 + 1) = −1. By
// symmetry α₁ = α₂ = α, so f(α) = ½(2α² + 2α² − 2α²) − 2α = α² − 2α, minimised at α = 1 < C.
// Then w = 1·(1, 0) − 1·(0, 1) = (1, −1) and the bias weight is 1 − 1 = 0. Both points sit on
// the margin, so the primal objective is ½‖(1, −1, 0)‖² = 1.
#[test]
fn separable_toy_by_hand() {
    let x = sparse(&[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]);
    let config = settings(Loss::Hinge, 10.0);
    let solution = solve_dual_cd(&x, &row_squared_norms(&x), &[true, false], &config, 2);
    assert!(solution.converged);
    assert!((solution.weights[0] - 1.0).abs() < 1e-6, "{solution:?}");
    assert!((solution.weights[1] + 1.0).abs() < 1e-6, "{solution:?}");
    assert!(solution.bias_weight.abs() < 1e-6, "{solution:?}");
    let objective = primal_objective(&x, &[true, false], &solution, &config);
    assert!((objective - 1.0).abs() < 1e-4, "objective {objective}");
}
