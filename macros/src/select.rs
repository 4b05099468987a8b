//! `select!` and `select_biased!`: wait for the first of several fused futures and run its
//! branch, dropping the others.
//!
//! ```text
//! // Input (after the runtime's wrapper): select!(($crate) a = f => x, b = g => y, complete => z)
//! // Output:
//! {
//!     enum __TetherSelected<B0, B1> { B0(B0), B1(B1), Complete }
//!     let selected = {
//!         let mut f0 = pin!(f);            // an expression is pinned in place
//!         let mut f1 = Pin::new(&mut g);   // a plain path (`g`) is borrowed: it must be `Unpin`
//!         let mut poll = |cx: &mut Context<'_>| {
//!             let mut order = [0, 1];
//!             shuffle(&mut order);         // select! only; select_biased! keeps [0, 1]
//!             let mut waiting = false;
//!             for branch in order {
//!                 match branch {
//!                     0 => if !is_terminated(&*f0) {
//!                         waiting = true;
//!                         if let Poll::Ready(v) = f0.as_mut().poll(cx) {
//!                             return Poll::Ready(__TetherSelected::B0(v));
//!                         }
//!                     },
//!                     // the same for 1
//!                 }
//!             }
//!             if waiting { Poll::Pending } else { Poll::Ready(__TetherSelected::Complete) }
//!         };
//!         poll_fn(poll).await
//!     }; // the futures that lost are dropped here, before any branch runs
//!     match selected {
//!         __TetherSelected::B0(a) => x,
//!         __TetherSelected::B1(b) => y,
//!         __TetherSelected::Complete => z,
//!     }
//! }
//! ```
//!
//! Without `complete =>`, "every future already finished" panics, as in the `futures` crate.
//! With `default =>`, the futures are polled once (with a no-op waker) instead of awaited, and
//! `default` runs when none is ready. The branch bodies run outside any closure, so `break`,
//! `continue`, `return` and `?` act on the code around the `select!`. Locals of the expansion
//! are `mixed_site` identifiers, which cannot clash with names in the user's code, except the
//! futures' slots: they are spanned at the user's future for the type checker's errors, and
//! named `__tether_future_N`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Error, Expr, Pat, Result, Token};

mod kw {
    syn::custom_keyword!(complete);
}

/// Entry point of `select!` (`random`: poll the branches in a random order) and
/// `select_biased!` (in the order written).
pub(crate) fn expand(input: TokenStream, random: bool) -> TokenStream {
    let name = if random { "select" } else { "select_biased" };
    match Select::parse_named(input, name) {
        Ok(select) => select.expand(random),
        Err(error) => error.to_compile_error(),
    }
}

/// One `pat = future => body` branch.
struct Branch {
    pat: Pat,
    future: Expr,
    body: Expr,
}

/// `($crate) branch, branch, [default => body,] [complete => body,]` in any order.
struct Select {
    /// The path to tether, as the wrapper passed it.
    krate: TokenStream,
    branches: Vec<Branch>,
    default: Option<Expr>,
    complete: Option<Expr>,
}

impl Select {
    fn parse_named(input: TokenStream, name: &'static str) -> Result<Select> {
        syn::parse::Parser::parse2(|input: ParseStream<'_>| Select::parse(input, name), input)
    }

    fn parse(input: ParseStream<'_>, name: &str) -> Result<Select> {
        let krate = crate::crate_arg::parse(input, name)?;
        let mut select = Select {
            krate,
            branches: Vec::new(),
            default: None,
            complete: None,
        };
        while !input.is_empty() {
            if input.peek(kw::complete) && input.peek2(Token![=>]) {
                let keyword: kw::complete = input.parse()?;
                set_once(
                    &mut select.complete,
                    keyword,
                    parse_body(input, name)?,
                    name,
                )?;
            } else if input.peek(Token![default]) && input.peek2(Token![=>]) {
                let keyword: Token![default] = input.parse()?;
                set_once(&mut select.default, keyword, parse_body(input, name)?, name)?;
            } else {
                let pat = Pat::parse_multi_with_leading_vert(input)?;
                input.parse::<Token![=]>().map_err(|error| {
                    Error::new(
                        error.span(),
                        format!(
                            "expected `=`: a {name}! branch is `pattern = future => body`, \
                             e.g. `n = reader.read(&mut buf).fuse() => n?`"
                        ),
                    )
                })?;
                let future: Expr = input.parse()?;
                let body = parse_body(input, name)?;
                select.branches.push(Branch { pat, future, body });
            }
        }
        Ok(select)
    }

    fn expand(&self, random: bool) -> TokenStream {
        let krate = &self.krate;
        let support = quote!(#krate::__private::select_support);
        let enum_name = format_ident!("__TetherSelected");
        let selected = private_ident("__tether_selected");
        let poll = private_ident("__tether_poll");
        let cx = private_ident("__tether_cx");
        let order = private_ident("__tether_order");
        let waiting = private_ident("__tether_waiting");
        let branch = private_ident("__tether_branch");
        let value = private_ident("__tether_value");
        let count = self.branches.len();
        let variants: Vec<_> = (0..count).map(|i| format_ident!("B{}", i)).collect();
        // Spanned at the user's future (its hygiene too, not `mixed_site`: rustc moves a span
        // of the expansion to the macro call), so that "not fused" points at the future that is
        // not. The `__tether_` name keeps clashes with the user's names out of reach.
        let slots: Vec<_> = self
            .branches
            .iter()
            .enumerate()
            .map(|(i, branch)| format_ident!("__tether_future_{}", i, span = branch.future.span()))
            .collect();

        let complete_variant = self.complete.as_ref().map(|_| quote!(Complete,));
        let enum_item = quote! {
            #[allow(non_camel_case_types, clippy::large_enum_variant)]
            enum #enum_name<#(#variants,)*> {
                #(#variants(#variants),)*
                #complete_variant
            }
        };

        // An expression is evaluated once and pinned in place; a plain path is borrowed, so a
        // future may be reused across several `select!`s (in a loop): it must be `Unpin` then.
        // Both are spanned on the user's expression, so "not `Unpin`" and "not fused" land there.
        let bindings = self.branches.iter().zip(&slots).map(|(branch, slot)| {
            let future = &branch.future;
            match future {
                Expr::Path(_) => quote_spanned! {future.span()=>
                    let mut #slot = ::core::pin::Pin::new(&mut #future);
                },
                _ => quote_spanned! {future.span()=>
                    let mut #slot = ::core::pin::pin!(#future);
                },
            }
        });

        let polls = self
            .branches
            .iter()
            .zip(&slots)
            .zip(&variants)
            .enumerate()
            .map(|(index, ((branch_item, slot), variant))| {
                let terminated = quote_spanned! {branch_item.future.span()=>
                    #support::is_terminated(&*#slot)
                };
                quote! {
                    #index => {
                        if !#terminated {
                            #waiting = true;
                            if let ::core::task::Poll::Ready(#value) =
                                ::core::future::Future::poll(#slot.as_mut(), #cx)
                            {
                                return ::core::task::Poll::Ready(#enum_name::#variant(#value));
                            }
                        }
                    }
                }
            });

        let shuffle = (random && count > 1).then(|| quote!(#support::shuffle(&mut #order);));
        // `mut` only where the expansion mutates, so that no `unused_mut` warning reaches the
        // user: the order is shuffled by `select!` alone, `waiting` is set when there is a
        // branch, and the closure is called in place (rather than moved) with `default`.
        let order_mut = (random && count > 1).then(|| quote!(mut));
        let waiting_mut = (count > 0).then(|| quote!(mut));
        let poll_mut = self.default.is_some().then(|| quote!(mut));
        let holes = variants.iter().map(|_| quote!(_));
        let indices = 0..count;
        let all_finished = if self.complete.is_some() {
            quote!(::core::task::Poll::Ready(#enum_name::Complete))
        } else {
            let message = format!(
                "every future in this {}! has already finished, and it has no `complete =>` \
                 branch to run; add one (e.g. `complete => break`)",
                if random { "select" } else { "select_biased" }
            );
            quote!(::core::panic!(#message))
        };

        // With `default`, one poll with a no-op waker decides; otherwise wait for a branch.
        let wait = if self.default.is_some() {
            quote! {
                #poll(&mut ::core::task::Context::from_waker(::core::task::Waker::noop()))
            }
        } else {
            quote!(::core::future::poll_fn(#poll).await)
        };

        let arms = self
            .branches
            .iter()
            .zip(&variants)
            .map(|(branch, variant)| {
                let (pat, body) = (&branch.pat, &branch.body);
                quote!(#enum_name::#variant(#pat) => #body,)
            });
        let complete_arm = self
            .complete
            .as_ref()
            .map(|body| quote!(#enum_name::Complete => #body,));
        let dispatch = quote! {
            match #selected {
                #(#arms)*
                #complete_arm
            }
        };
        let dispatch = match &self.default {
            Some(default) => quote! {
                match #selected {
                    ::core::task::Poll::Ready(#selected) => #dispatch,
                    ::core::task::Poll::Pending => #default,
                }
            },
            None => dispatch,
        };

        quote! {{
            #enum_item
            let #selected = {
                #(#bindings)*
                let #poll_mut #poll = |#cx: &mut ::core::task::Context<'_>|
                    -> ::core::task::Poll<#enum_name<#(#holes,)*>>
                {
                    let #order_mut #order: [usize; #count] = [#(#indices),*];
                    #shuffle
                    let #waiting_mut #waiting = false;
                    for #branch in #order {
                        match #branch {
                            #(#polls)*
                            _ => ::core::unreachable!(),
                        }
                    }
                    if #waiting {
                        ::core::task::Poll::Pending
                    } else {
                        #all_finished
                    }
                };
                #wait
            };
            #dispatch
        }}
    }
}

/// Keeps the body of the `complete` or `default` branch, refusing a second one.
fn set_once(slot: &mut Option<Expr>, keyword: impl ToTokens, body: Expr, name: &str) -> Result<()> {
    if slot.is_some() {
        let keyword_text = keyword.to_token_stream().to_string();
        return Err(Error::new_spanned(
            keyword,
            format!(
                "{name}! takes at most one `{keyword_text} =>` branch; \
                 merge the two bodies into one"
            ),
        ));
    }
    *slot = Some(body);
    Ok(())
}

/// `=> body` and the comma after it, which only a block body or the last branch may leave out
/// (the rule of `match` arms).
fn parse_body(input: ParseStream<'_>, name: &str) -> Result<Expr> {
    input.parse::<Token![=>]>().map_err(|error| {
        Error::new(
            error.span(),
            format!("expected `=>` and the branch's body: `pattern = future => body` in {name}!"),
        )
    })?;
    let body = Expr::parse_with_earlier_boundary_rule(input)?;
    if matches!(body, Expr::Block(_)) || input.is_empty() {
        input.parse::<Option<Token![,]>>()?;
    } else {
        input.parse::<Token![,]>().map_err(|error| {
            Error::new(
                error.span(),
                format!(
                    "expected `,` before this {name}! branch: only a branch whose body is a \
                     `{{ block }}` may leave it out"
                ),
            )
        })?;
    }
    Ok(body)
}

/// A local of the expansion that user code cannot name.
fn private_ident(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}
