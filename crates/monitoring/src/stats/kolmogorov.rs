//! The distribution of the one-sample two-sided Kolmogorov-Smirnov statistic `D_n`, which
//! the two-sample test uses as its large-sample p-value (SciPy's `kstwo.sf(d, n)`).
//!
//! The method is chosen per `(n, d)` as Simard and L'Ecuyer (2011, "Computing the Two-Sided
//! Kolmogorov-Smirnov Distribution", Journal of Statistical Software 39(11)) recommend and
//! SciPy 1.17 does: closed forms at the extremes, twice the one-sided exact tail
//! (Birnbaum-Tingey) for large `n d^2`, the Durbin matrix in the form of Marsaglia, Tsang and
//! Wang (2003) where its matrix is small, and the Pelz-Good (1976) asymptotic series elsewhere.

use std::f64::consts::PI;

use statrs::function::gamma::ln_gamma;

/// Returns `P(D_n >= x)` for the two-sided one-sample statistic of a sample of size `n`.
pub fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let n_float = n as f64;
    let t = n_float * x;

    // Ruben and Gambino's closed forms for the smallest and largest values of `n x`.
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = (ln_factorial_over_power(n) + n_float * (2.0 * t - 1.0).ln()).exp();
        return clip(1.0 - cdf);
    }
    if t >= n_float - 1.0 {
        return clip(2.0 * (1.0 - x).powf(n_float));
    }
    if x >= 0.5 {
        return clip(2.0 * smirnov_sf(n, x));
    }

    let n_x_squared = t * x;
    if n <= 140 {
        if n_x_squared <= 4.0 {
            return clip(1.0 - durbin_cdf(n, x));
        }
        return clip(2.0 * smirnov_sf(n, x));
    }
    if n_x_squared >= 370.0 {
        return 0.0;
    }
    if n_x_squared >= 2.2 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    if n <= 100_000 && n_float * x.powf(1.5) <= 1.4 {
        clip(1.0 - durbin_cdf(n, x))
    } else {
        clip(1.0 - pelz_good_cdf(n, x))
    }
}

/// Returns `P(D+_n >= x)`, the exact upper tail of the one-sided statistic, by the
/// Birnbaum-Tingey sum `x * sum_j C(n, j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1)` for
/// `j = 0 ..= floor(n (1 - x))`, each term evaluated in logarithms.
pub fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let n_float = n as f64;
    let last = (n_float * (1.0 - x)).floor() as u64;
    let ln_n_factorial = ln_gamma(n_float + 1.0);
    let mut sum = 0.0;
    for j in 0..=last {
        let j_float = j as f64;
        let lower = 1.0 - x - j_float / n_float;
        let upper = x + j_float / n_float;
        if lower <= 0.0 {
            // (1 - x - j/n)^(n - j) is 0 unless n - j is 0, which needs x = 0.
            continue;
        }
        let ln_binomial = ln_n_factorial - ln_gamma(j_float + 1.0) - ln_gamma(n_float - j_float + 1.0);
        let ln_term = ln_binomial + (n_float - j_float) * lower.ln() + (j_float - 1.0) * upper.ln();
        sum += ln_term.exp();
    }
    clip(x * sum)
}

/// `ln(n! / n^n)`.
fn ln_factorial_over_power(n: u64) -> f64 {
    let n_float = n as f64;
    ln_gamma(n_float + 1.0) - n_float * n_float.ln()
}

/// Returns `P(D_n < d)` by Durbin's matrix method as Marsaglia, Tsang and Wang (2003) compute
/// it: with `d = (k - h) / n`, `0 <= h < 1`, the probability is `n!/n^n` times the `(k, k)`
/// entry of `H^n` for an `m x m` matrix `H`, `m = 2k - 1`. Intermediate powers are rescaled
/// by powers of two so that large `n` neither overflows nor underflows.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let n_float = n as f64;
    let nd = n_float * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;

    // H[i][j] = 1/(i - j + 1)! below and on the first superdiagonal; the first column and the
    // last row are corrected for the boundary.
    let mut inverse_factorials = vec![1.0; m + 1];
    for i in 1..=m {
        inverse_factorials[i] = inverse_factorials[i - 1] / i as f64;
    }
    let mut matrix = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            if i + 1 >= j {
                matrix[i * m + j] = inverse_factorials[i + 1 - j];
            }
        }
    }
    for i in 0..m {
        let corrected = (1.0 - h.powi(i as i32 + 1)) * inverse_factorials[i + 1];
        matrix[i * m] = corrected;
        matrix[(m - 1) * m + (m - 1 - i)] = corrected;
    }
    let corner_extra = if 2.0 * h - 1.0 > 0.0 { (2.0 * h - 1.0).powi(m as i32) } else { 0.0 };
    matrix[(m - 1) * m] = (1.0 - 2.0 * h.powi(m as i32) + corner_extra) * inverse_factorials[m];

    let (power, mut exponent) = matrix_power_scaled(matrix, m, n);
    let mut probability = power[(k - 1) * m + (k - 1)];

    // Multiply by n!/n^n one factor at a time, rescaling as the power was.
    for i in 1..=n {
        probability = probability * i as f64 / n_float;
        if probability.abs() < SCALE_DOWN_LIMIT {
            probability *= SCALE;
            exponent -= SCALE_EXPONENT;
        }
    }
    probability * 2f64.powi(exponent)
}

const SCALE_EXPONENT: i32 = 128;
/// 2^128: the factor by which large intermediate values are divided.
const SCALE: f64 = 3.402_823_669_209_385e38;
/// 2^-128.
const SCALE_DOWN_LIMIT: f64 = 1.0 / SCALE;

/// Returns `matrix^power` (row-major, `size x size`) as a mantissa matrix and a power of two.
fn matrix_power_scaled(matrix: Vec<f64>, size: usize, power: u64) -> (Vec<f64>, i32) {
    let mut result = vec![0.0; size * size];
    for i in 0..size {
        result[i * size + i] = 1.0;
    }
    let mut result_exponent = 0i32;
    let mut base = matrix;
    let mut base_exponent = 0i32;
    let mut remaining = power;
    let centre = (size / 2) * size + size / 2;
    while remaining > 0 {
        if remaining % 2 == 1 {
            result = multiply(&result, &base, size);
            result_exponent += base_exponent;
            if result[centre].abs() > SCALE {
                result.iter_mut().for_each(|value| *value /= SCALE);
                result_exponent += SCALE_EXPONENT;
            }
        }
        remaining /= 2;
        if remaining > 0 {
            base = multiply(&base, &base, size);
            base_exponent *= 2;
            if base[centre].abs() > SCALE {
                base.iter_mut().for_each(|value| *value /= SCALE);
                base_exponent += SCALE_EXPONENT;
            }
        }
    }
    (result, result_exponent)
}

fn multiply(left: &[f64], right: &[f64], size: usize) -> Vec<f64> {
    let mut product = vec![0.0; size * size];
    for i in 0..size {
        for l in 0..size {
            let factor = left[i * size + l];
            if factor == 0.0 {
                continue;
            }
            let row = &right[l * size..(l + 1) * size];
            let out = &mut product[i * size..(i + 1) * size];
            for (target, value) in out.iter_mut().zip(row) {
                *target += factor * value;
            }
        }
    }
    product
}

/// Returns the Pelz-Good approximation of `P(D_n <= x)`: the Li-Chien and Korolyuk expansion
/// `K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5` with `z = x sqrt(n)`, each `Ki` written as
/// a theta-function series that converges fast for small `z`.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    let n_float = n as f64;
    let z = n_float.sqrt() * x;
    let z2 = z * z;
    let z4 = z2 * z2;
    let z6 = z4 * z2;
    let exponent_unit = -PI * PI / (8.0 * z2);
    if exponent_unit < -708.0 {
        return 0.0;
    }
    let sqrt_two_pi = (2.0 * PI).sqrt();
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let terms = (16.0 * z / PI).ceil().max(1.0) as u64;

    // Sums over odd m = 2k - 1 with weight exp(-m^2 pi^2 / (8 z^2)).
    let mut sums = [0.0f64; 4];
    for k in 1..=terms {
        let m = (2 * k - 1) as f64;
        let m2 = m * m;
        let m4 = m2 * m2;
        let m6 = m4 * m2;
        let weight = (exponent_unit * m2).exp();
        sums[0] += weight;
        sums[1] += (pi2 * m2 / 4.0 - z2) * weight;
        sums[2] += (6.0 * z6 + 2.0 * z4 + (2.0 * z4 - 5.0 * z2) * pi2 * m2 / 4.0
            + pi4 * (1.0 - 2.0 * z2) * m4 / 16.0)
            * weight;
        sums[3] += (-30.0 * z6 - 90.0 * z6 * z2
            + pi2 * (135.0 * z4 - 96.0 * z6) * m2 / 4.0
            + pi4 * (-60.0 * z2 + 212.0 * z4) * m4 / 16.0
            + pi6 * (5.0 - 30.0 * z2) * m6 / 64.0)
            * weight;
    }
    let k0 = sqrt_two_pi / z * sums[0];
    let k1 = sqrt_two_pi / (6.0 * z4) * sums[1];
    let mut k2 = sqrt_two_pi / (72.0 * z6 * z) * sums[2];
    let mut k3 = sqrt_two_pi / (6480.0 * z6 * z4) * sums[3];

    // Sums over all k with weight exp(-k^2 pi^2 / (2 z^2)).
    let mut extra2 = 0.0;
    let mut extra3 = 0.0;
    for k in 1..=terms {
        let k_float = k as f64;
        let k2_float = k_float * k_float;
        let weight = (-pi2 * k2_float / (2.0 * z2)).exp();
        extra2 += k2_float * weight;
        extra3 += (3.0 * z2 - pi2 * k2_float) * k2_float * weight;
    }
    k2 -= pi2 * sqrt_two_pi / (36.0 * z2 * z) * extra2;
    k3 += pi2 * sqrt_two_pi / (216.0 * z6) * extra3;

    k0 + k1 / n_float.sqrt() + k2 / n_float + k3 / (n_float * n_float.sqrt())
}

fn clip(probability: f64) -> f64 {
    probability.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        let scale = expected.abs().max(1e-300);
        assert!(
            ((actual - expected) / scale).abs() <= relative,
            "actual {actual:e}, expected {expected:e}"
        );
    }

    // Reference values from SciPy 1.17.1, one per method branch:
    // python3 -c "from scipy.stats import kstwo; from scipy.special import smirnov
    //   for n, x in [(50, .1), (100, .15), (50, .3), (1000, .012), (1000, .03), (1000, .05),
    //                (200000, .003)]: print(n, x, repr(float(kstwo.sf(x, n))))
    //   print(repr(float(smirnov(20, .2))))"
    #[test]
    fn durbin_matrix_small_sample() {
        assert_close(kolmogorov_sf(50, 0.1), 0.6623112704658186, 1e-10);
        assert_close(kolmogorov_sf(100, 0.15), 0.019839242125643017, 1e-9);
    }

    #[test]
    fn smirnov_tail_large_deviation() {
        assert_close(kolmogorov_sf(50, 0.3), 0.00017353260202718738, 1e-9);
        assert_close(kolmogorov_sf(1000, 0.05), 0.013012074781090332, 1e-9);
        assert_close(smirnov_sf(20, 0.2), 0.1771853932104659, 1e-10);
    }

    #[test]
    fn durbin_matrix_medium_sample() {
        assert_close(kolmogorov_sf(1000, 0.012), 0.9984464668620097, 1e-9);
    }

    #[test]
    fn pelz_good_large_sample() {
        assert_close(kolmogorov_sf(1000, 0.03), 0.3226902143914636, 1e-9);
        assert_close(kolmogorov_sf(200_000, 0.003), 0.0545369786611305, 1e-8);
    }

    #[test]
    fn extremes_are_closed_forms() {
        assert_eq!(kolmogorov_sf(10, 0.0), 1.0);
        assert_eq!(kolmogorov_sf(10, 1.0), 0.0);
        assert_eq!(kolmogorov_sf(10, 0.04), 1.0);
        // n x >= n - 1: P = 2 (1 - x)^n, here 2 * 0.05^10.
        assert_close(kolmogorov_sf(10, 0.95), 2.0 * 0.05f64.powi(10), 1e-12);
    }
}
