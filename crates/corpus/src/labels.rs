//! Label sources: Crossref subject names, ISSN-to-ASJC tables, alexandria3k `works_asjcs`.
