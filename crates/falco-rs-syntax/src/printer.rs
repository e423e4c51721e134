//! `Display` for the AST (libsinsp AST printer format).
