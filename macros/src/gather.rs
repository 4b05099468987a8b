//! `gather!`: poll several futures concurrently inside the calling task and wait for all of them.
//!
//! ```text
//! // Input (after the runtime's wrapper): gather!(($crate) a, b)
//! // Output:
//! {
//!     let mut f0 = pin!(MaybeDone::Future(IntoFuture::into_future(a)));
//!     let mut f1 = pin!(MaybeDone::Future(IntoFuture::into_future(b)));
//!     poll_fn(|cx| {
//!         let mut done = true;
//!         done &= Future::poll(f0.as_mut(), cx).is_ready();
//!         done &= Future::poll(f1.as_mut(), cx).is_ready();
//!         if !done { return Poll::Pending; }
//!         Poll::Ready((take(f0), take(f1))) // `match f0.as_mut().take_output() { Some(v) => v, .. }`
//!     })
//!     .await
//! }
//!
//! // Input: gather!(($crate) try a, b)
//! // Output: as above, but after polling each future:
//! //     if let Some(Err(_)) = fN.as_mut().output_mut() {
//! //         if let Some(Err(e)) = fN.as_mut().take_output() { return Poll::Ready(Err(e)); }
//! //     }
//! // and the final value is `Poll::Ready(Ok((..outputs unwrapped from Ok..)))`.
//! ```
//!
//! The futures live pinned on the calling task's stack (no allocation, no spawning), so they may
//! borrow locals. They are polled in argument order; a finished one is not polled again. In the
//! `try` form, returning early ends the block, which drops the futures still running.
//! Locals of the expansion are `mixed_site` identifiers, so they cannot clash with names used in
//! the user's expressions.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Error, Expr, Result, Token};

/// Entry point of `gather!`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Gather>(input) {
        Ok(gather) => gather.expand(),
        Err(error) => error.to_compile_error(),
    }
}

/// `($crate) [try] fut, fut, ...`
struct Gather {
    /// The path to tether, as the wrapper passed it.
    krate: TokenStream,
    /// The fail-fast form.
    try_token: Option<Token![try]>,
    /// The futures, in argument order.
    futures: Vec<Expr>,
}

impl Parse for Gather {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let krate = crate::crate_arg::parse(input, "gather")?;
        let try_token: Option<Token![try]> = input.parse()?;
        let futures = Punctuated::<Expr, Token![,]>::parse_terminated(input).map_err(|error| {
            Error::new(
                error.span(),
                format!(
                    "{error}; gather! takes futures separated by commas: `tether::gather!(a, b)`"
                ),
            )
        })?;
        if futures.is_empty() {
            let span = try_token.map_or_else(Span::call_site, |token| token.span);
            return Err(Error::new(
                span,
                "gather! needs at least one future: `tether::gather!(a, b)`",
            ));
        }
        Ok(Gather {
            krate,
            try_token,
            futures: futures.into_iter().collect(),
        })
    }
}

impl Gather {
    fn expand(&self) -> TokenStream {
        let krate = &self.krate;
        let maybe_done = quote!(#krate::__private::MaybeDone);
        let cx = private_ident("__tether_gather_cx");
        let done = private_ident("__tether_gather_done");
        let slots: Vec<_> = (0..self.futures.len())
            .map(|i| format_ident!("__tether_gather_{}", i, span = Span::mixed_site()))
            .collect();
        let try_form = self.try_token.is_some();

        // `let mut fN = pin!(MaybeDone::Future(into_future(expr)));`, spanned on the user's expression so
        // that "`X` is not a future" lands on it.
        let pins = self.futures.iter().zip(&slots).map(|(future, slot)| {
            quote_spanned! {future.span()=>
                let mut #slot = ::core::pin::pin!(#maybe_done::Future(
                    ::core::future::IntoFuture::into_future(#future)
                ));
            }
        });

        // Poll every future once per wake-up; in the `try` form, bail out on the first `Err`.
        let polls = self.futures.iter().zip(&slots).map(|(future, slot)| {
            let poll = quote! {
                #done &= ::core::future::Future::poll(#slot.as_mut(), #cx).is_ready();
            };
            if !try_form {
                return poll;
            }
            let error = private_ident("__tether_gather_error");
            let bail = quote_spanned! {future.span()=>
                if let ::core::option::Option::Some(::core::result::Result::Err(_)) =
                    #slot.as_mut().output_mut()
                {
                    if let ::core::option::Option::Some(::core::result::Result::Err(#error)) =
                        #slot.as_mut().take_output()
                    {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(#error));
                    }
                }
            };
            quote!(#poll #bail)
        });

        let value = private_ident("__tether_gather_value");
        let outputs = self.futures.iter().zip(&slots).map(|(future, slot)| {
            if try_form {
                quote_spanned! {future.span()=>
                    match #slot.as_mut().take_output() {
                        ::core::option::Option::Some(::core::result::Result::Ok(#value)) => #value,
                        _ => ::core::unreachable!("gather!: every output is ready and `Ok`"),
                    }
                }
            } else {
                quote! {
                    match #slot.as_mut().take_output() {
                        ::core::option::Option::Some(#value) => #value,
                        ::core::option::Option::None => {
                            ::core::unreachable!("gather!: every output is ready")
                        }
                    }
                }
            }
        });
        let ready = if try_form {
            quote!(::core::result::Result::Ok((#(#outputs,)*)))
        } else {
            quote!((#(#outputs,)*))
        };

        quote! {
            {
                #(#pins)*
                ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
                    let mut #done = true;
                    #(#polls)*
                    if !#done {
                        return ::core::task::Poll::Pending;
                    }
                    ::core::task::Poll::Ready(#ready)
                })
                .await
            }
        }
    }
}

/// An identifier private to the expansion: user code passed in cannot see or shadow it.
fn private_ident(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_form() {
        let output = expand(quote!(($crate) a, b)).to_string();
        assert!(output.contains("MaybeDone"), "{output}");
        assert!(output.contains(". await"), "{output}");
        assert!(!output.contains("Err"), "{output}");
    }

    #[test]
    fn try_form_returns_the_first_error() {
        let output = expand(quote!((tether) try a, b,)).to_string();
        assert!(
            output.contains("tether :: __private :: MaybeDone"),
            "{output}"
        );
        assert!(
            output.contains(":: core :: result :: Result :: Err"),
            "{output}"
        );
        assert!(
            output.contains(":: core :: result :: Result :: Ok (("),
            "{output}"
        );
    }

    #[test]
    fn one_future_is_a_one_tuple() {
        let output = expand(quote!((tether) a)).to_string();
        assert!(output.contains("ready\") } } ,)"), "{output}");
    }

    #[test]
    fn no_futures_is_an_error() {
        for input in [quote!((tether)), quote!((tether) try)] {
            let output = expand(input).to_string();
            assert!(
                output.contains("gather! needs at least one future"),
                "{output}"
            );
        }
    }
}
