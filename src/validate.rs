//! `archsim validate`: run every reference set under tests/data and summarize the errors.
