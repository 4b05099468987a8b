//! The `($crate)` group the runtime's `macro_rules!` wrappers put in front of the user's input.
//!
//! ```text
//! // Input (user):        tether::gather!(a, b)
//! // Wrapper expands to:  $crate::__private::gather!(($crate) a, b)
//! // This module reads:   ($crate)  ->  the tokens `$crate`, used as the path to tether
//! ```

use proc_macro2::TokenStream;
use syn::parse::ParseStream;
use syn::{Error, Result, token};

/// Parses the leading parenthesized crate path and returns its tokens as they are.
///
/// The tokens are kept opaque (not parsed as a `syn::Path`): `$crate` arrives as a special
/// identifier, and emitting it back unchanged is what makes it resolve to tether.
pub(crate) fn parse(input: ParseStream<'_>, macro_name: &str) -> Result<TokenStream> {
    if !input.peek(token::Paren) {
        return Err(Error::new(
            input.span(),
            format!(
                "this is the implementation of `tether::{macro_name}!`; \
                 call `tether::{macro_name}!(...)` instead"
            ),
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    content.parse()
}
