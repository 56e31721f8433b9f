//! Sparse vectors and compressed sparse row (CSR) matrices of `f32` features.

/// A sparse feature vector: `indices` strictly increasing, `values[k]` belongs to
/// `indices[k]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl SparseVector {
    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Iterates over `(index, value)` pairs in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.indices.iter().copied().zip(self.values.iter().copied())
    }
}

/// A row-major sparse matrix: row `r` holds `indices[indptr[r]..indptr[r + 1]]` and the
/// matching `values`, with indices strictly increasing inside each row.
#[derive(Debug, Clone, PartialEq)]
pub struct CsrMatrix {
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
    pub n_cols: usize,
}

impl CsrMatrix {
    /// An empty matrix with `n_cols` columns and no rows.
    pub fn new(n_cols: usize) -> Self {
        Self { indptr: vec![0], indices: Vec::new(), values: Vec::new(), n_cols }
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of stored entries in the whole matrix.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Appends a row; its indices must be sorted and below `n_cols`.
    pub fn push_row(&mut self, indices: &[u32], values: &[f32]) {
        debug_assert_eq!(indices.len(), values.len());
        debug_assert!(indices.iter().all(|&index| (index as usize) < self.n_cols));
        self.indices.extend_from_slice(indices);
        self.values.extend_from_slice(values);
        self.indptr.push(self.indices.len());
    }

    /// Appends all rows of `other`, which must have the same number of columns.
    pub fn append(&mut self, other: &CsrMatrix) {
        debug_assert_eq!(self.n_cols, other.n_cols);
        let offset = self.indices.len();
        self.indices.extend_from_slice(&other.indices);
        self.values.extend_from_slice(&other.values);
        self.indptr.extend(other.indptr[1..].iter().map(|end| end + offset));
    }

    /// Row `row` as `(indices, values)`.
    pub fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let range = self.indptr[row]..self.indptr[row + 1];
        (&self.indices[range.clone()], &self.values[range])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_rows_keep_offsets() {
        let mut left = CsrMatrix::new(4);
        left.push_row(&[0, 3], &[1.0, 2.0]);
        let mut right = CsrMatrix::new(4);
        right.push_row(&[], &[]);
        right.push_row(&[2], &[5.0]);
        left.append(&right);
        assert_eq!(left.n_rows(), 3);
        assert_eq!(left.indptr, [0, 2, 2, 3]);
        assert_eq!(left.row(2), (&[2u32][..], &[5.0f32][..]));
        assert_eq!(left.row(1).0.len(), 0);
    }
}
