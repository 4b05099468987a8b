//! `#[tether::owned]`: the ownership checks of `#[tether::main]` on any function, `impl` block,
//! trait or inline module.
//!
//! ```text
//! // Input:
//! #[tether::owned]
//! impl Server { async fn accept(&self) { let _ = tether::spawn(serve()); } }
//!
//! // Output:
//! #[deny(unused_must_use)]
//! impl Server { async fn accept(&self) { let _ = match tether::spawn(serve()) { .. }; } }
//! ```
//!
//! The lint attribute covers everything inside the item; `let_underscore` rewrites each
//! `let _ = value;` in it. On a misuse the item is emitted unchanged next to the error.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Error, Item, Meta, Result, Token};

use crate::entry::{crate_path, with_error};
use crate::let_underscore;

const ATTR: &str = "#[tether::owned]";

/// Entry point of `#[tether::owned]`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let checked = parse_args(args).and_then(|krate| {
        let mut parsed: Item = syn::parse2(item.clone())?;
        check_target(&parsed)?;
        let_underscore::check_item(&krate, &mut parsed);
        Ok(parsed)
    });
    match checked {
        Ok(item) => quote! {
            #[deny(unused_must_use)]
            #item
        },
        Err(error) => with_error(item, &error),
    }
}

/// The only option, `crate = "path"`; the path to tether, `::tether` by default.
fn parse_args(args: TokenStream) -> Result<TokenStream> {
    let example = "#[tether::owned(crate = \"my_tether\")]";
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated
        .parse2(args)
        .map_err(|error| {
            Error::new(
                error.span(),
                format!("{error}; {ATTR} takes no options but `crate = \"path\"`: `{example}`"),
            )
        })?;
    let mut krate = None;
    for meta in &metas {
        if !meta.path().is_ident("crate") {
            return Err(Error::new_spanned(
                meta,
                format!(
                    "unknown option; {ATTR} takes no options but `crate = \"path\"`: `{example}`"
                ),
            ));
        }
        if krate.is_some() {
            return Err(Error::new_spanned(
                meta,
                "`crate` is set more than once; remove this one",
            ));
        }
        krate = Some(crate_path(example, meta)?);
    }
    Ok(krate.map_or_else(|| quote!(::tether), |path| path.to_token_stream()))
}

/// Functions, `impl` blocks, traits and inline modules hold code to check; nothing else does.
fn check_target(item: &Item) -> Result<()> {
    match item {
        Item::Fn(_) | Item::Impl(_) | Item::Trait(_) => Ok(()),
        Item::Mod(module) if module.content.is_some() => Ok(()),
        Item::Mod(module) => Err(Error::new_spanned(
            module,
            format!(
                "{ATTR} cannot see into a module in another file; put it on the functions and \
                 `impl` blocks of that file, or on an inline module `mod name {{ ... }}`"
            ),
        )),
        other => Err(Error::new_spanned(
            other,
            format!(
                "{ATTR} checks code that runs: put it on a function, an `impl` block, a trait \
                 or an inline module"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denies_unused_must_use_and_rewrites_let_underscore() {
        let output = expand(
            quote!(),
            quote! {
                impl Server {
                    async fn accept(&self) {
                        let _ = tether::spawn(serve());
                    }
                }
            },
        )
        .to_string();
        assert!(
            output.starts_with("# [deny (unused_must_use)] impl Server"),
            "{output}"
        );
        assert!(
            output.contains(":: tether :: __private :: owning :: discard"),
            "{output}"
        );
    }

    #[test]
    fn crate_option_changes_the_path() {
        let output = expand(
            quote!(crate = "my_tether"),
            quote!(
                fn f() {
                    let _ = g();
                }
            ),
        )
        .to_string();
        assert!(
            output.contains("my_tether :: __private :: owning :: discard"),
            "{output}"
        );
    }

    #[test]
    fn misuse_keeps_the_item() {
        for (args, item, message) in [
            (
                quote!(),
                quote!(
                    struct S;
                ),
                "checks code that runs",
            ),
            (
                quote!(),
                quote!(
                    mod m;
                ),
                "cannot see into a module in another file",
            ),
            (
                quote!(strict),
                quote!(
                    fn f() {}
                ),
                "unknown option",
            ),
            (
                quote!(crate = "a", crate = "b"),
                quote!(
                    fn f() {}
                ),
                "set more than once",
            ),
        ] {
            let output = expand(args, item.clone()).to_string();
            assert!(output.contains("compile_error"), "{output}");
            assert!(output.contains(message), "{output}");
            assert!(output.starts_with(&item.to_string()), "{output}");
        }
    }
}
