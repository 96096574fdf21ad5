//! Rule catalogue and findings (to be written).
