//! `task_group!`: run a closure with a task group and await the group in place.
//!
//! ```text
//! // Input (after the runtime's wrapper): task_group!(($crate) |tg| body)
//! // Output:                              $crate::TaskGroup::scope(async |tg| body).await
//!
//! // Input:  task_group!(($crate) try move |tg: &TaskGroup<'_, '_>| body)
//! // Output: $crate::TaskGroup::try_scope(async move |tg: &TaskGroup<'_, '_>| body).await
//!
//! // Input:  task_group!(($crate) limit = n, try |tg| body)   (any form)
//! // Output: $crate::TaskGroup::builder().limit(n).try_scope(async |tg| body).await
//!
//! // Input:  task_group!(($crate) supervise |tg| body)  (and `supervise try`)
//! // Output: $crate::TaskGroup::supervise(async |tg| body).await  (`try_supervise`)
//!
//! // Input:  task_group!(($crate) send |tg| body)      (and `send try`, `send supervise`,
//! //                                                    `send supervise try`)
//! // Output: $crate::TaskGroup::scope_send(|__tether_group| {    (`try_scope_send`,
//! //                                                             `supervise_send`, ...)
//! //             let __tether_group = ::core::cell::Cell::new(__tether_group);
//! //             ::std::boxed::Box::pin(async {
//! //                 let tg = ::core::cell::Cell::into_inner(__tether_group);
//! //                 body
//! //             })
//! //         }).await
//! ```
//!
//! The closure is re-emitted token for token with `async` added (the send form: with its body
//! in a boxed `Send` future, see `expand`), so errors in its parameter or body keep pointing at
//! the user's code.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{Error, Expr, ExprClosure, Ident, Result, Token};

/// Entry point of `task_group!`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<TaskGroupInput>(input) {
        Ok(group) => group.expand(),
        Err(error) => error.to_compile_error(),
    }
}

/// The usage shown in messages.
const USAGE: &str = "task_group! takes a closure with one parameter, the group: \
     `task_group!(|tg| { tg.create_task(work()); })`";

/// `($crate) [limit = n,] [send] [supervise] [try] [move] |tg| body`
struct TaskGroupInput {
    /// The path to tether, as the wrapper passed it.
    krate: TokenStream,
    /// `limit = n`: at most `n` children run at once.
    limit: Option<Expr>,
    /// The `Send` form: `scope_send` instead of `scope`.
    send: Option<Ident>,
    /// The supervising form: `supervise` instead of `scope`.
    supervise: Option<Ident>,
    /// The fallible form: `try_scope` instead of `scope`.
    try_token: Option<Token![try]>,
    /// The user's closure, already checked and made `async`.
    closure: ExprClosure,
}

impl Parse for TaskGroupInput {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let krate = crate::crate_arg::parse(input, "task_group")?;
        let limit = parse_limit(input)?;
        let send = parse_keyword(input, "send")?;
        let supervise = parse_keyword(input, "supervise")?;
        if let (None, Some(late)) = (&send, &supervise) {
            if parse_keyword(input, "send")?.is_some() {
                return Err(Error::new_spanned(
                    late,
                    "write `send supervise`, not `supervise send`: \
                     `task_group!(send supervise |tg| { ... })`",
                ));
            }
        }
        let try_token: Option<Token![try]> = input.parse()?;
        if let Some(late) = peek_limit(input) {
            return Err(Error::new(
                late.span(),
                "write `limit = n,` first: `task_group!(limit = n, send try |tg| { ... })`",
            ));
        }
        if let Some(try_token) = try_token {
            for (keyword, fix) in [
                (
                    "send",
                    "`send try`, not `try send`: `task_group!(send try |tg| { ... })`",
                ),
                (
                    "supervise",
                    "`supervise try`, not `try supervise`: \
                     `task_group!(supervise try |tg| { ... })`",
                ),
            ] {
                if let Some(late) = parse_keyword(input, keyword)? {
                    return Err(Error::new_spanned(late, format!("write {fix}")));
                }
            }
            if send.is_none() && supervise.is_none() && input.is_empty() {
                return Err(Error::new(try_token.span, USAGE));
            }
        }
        if input.is_empty() {
            let span = match (&send, &supervise, try_token) {
                (_, _, Some(token)) => token.span,
                (_, Some(keyword), None) | (Some(keyword), None, None) => keyword.span(),
                (None, None, None) => Span::call_site(),
            };
            return Err(Error::new(span, USAGE));
        }
        let body: Expr = input.parse()?;
        let _trailing_comma: Option<Token![,]> = input.parse()?;
        if !input.is_empty() {
            return Err(input.error(format!("unexpected tokens after the closure; {USAGE}")));
        }
        let closure = closure(body)?;
        if let (Some(send), syn::ReturnType::Type(arrow, ty)) = (&send, &closure.output) {
            let mut tokens = arrow.to_token_stream();
            ty.to_tokens(&mut tokens);
            return Err(Error::new_spanned(
                tokens,
                format!(
                    "remove the return type: `{send} |tg| ...` makes the body an async block, \
                     which cannot name it; annotate the body's value instead"
                ),
            ));
        }
        Ok(TaskGroupInput {
            krate,
            limit,
            send,
            supervise,
            try_token,
            closure,
        })
    }
}

/// `limit`, if the input starts with `limit =`.
fn peek_limit(input: ParseStream<'_>) -> Option<Ident> {
    let fork = input.fork();
    match fork.parse::<Ident>() {
        Ok(ident) if ident == "limit" && fork.peek(Token![=]) && !fork.peek(Token![==]) => {
            Some(ident)
        }
        _ => None,
    }
}

/// `limit = n,` if the input starts with it. A literal 0 is refused here; any other
/// expression is checked when the group opens (`GroupBuilder::limit` panics at 0).
fn parse_limit(input: ParseStream<'_>) -> Result<Option<Expr>> {
    if peek_limit(input).is_none() {
        return Ok(None);
    }
    input.parse::<Ident>()?;
    input.parse::<Token![=]>()?;
    let limit: Expr = input.parse()?;
    if !input.peek(Token![,]) {
        return Err(
            input.error("expected `,` after the limit: `task_group!(limit = n, |tg| { ... })`")
        );
    }
    input.parse::<Token![,]>()?;
    if let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(int),
        ..
    }) = &limit
    {
        if int.base10_parse::<u128>().is_ok_and(|n| n == 0) {
            return Err(Error::new_spanned(
                &limit,
                "a group's limit must be at least 1: with `limit = 0` no child could ever run",
            ));
        }
    }
    if let Some(again) = peek_limit(input) {
        return Err(Error::new(again.span(), "`limit` is set twice; keep one"));
    }
    Ok(Some(limit))
}

/// `keyword` (`send`, `supervise`), if the input starts with it, followed by more (a lone
/// `send` is a variable's name, and the closure check reports it).
fn parse_keyword(input: ParseStream<'_>, keyword: &str) -> Result<Option<Ident>> {
    let fork = input.fork();
    match fork.parse::<Ident>() {
        Ok(ident) if ident == keyword && !fork.is_empty() && !fork.peek(Token![,]) => {
            input.parse::<Ident>().map(Some)
        }
        _ => Ok(None),
    }
}

/// Checks that `expr` is a plain closure of one parameter, and makes it `async`.
fn closure(expr: Expr) -> Result<ExprClosure> {
    let mut closure = match expr {
        Expr::Closure(closure) => closure,
        Expr::Async(block) => {
            return Err(Error::new_spanned(
                block,
                format!("an async block is not a closure; {USAGE}"),
            ));
        }
        other => return Err(Error::new_spanned(other, USAGE)),
    };
    if let Some(async_token) = closure.asyncness {
        return Err(Error::new_spanned(
            async_token,
            "remove this `async`: task_group! makes the closure async itself; \
             write `task_group!(|tg| { ... })`",
        ));
    }
    if let Some(const_token) = closure.constness {
        return Err(Error::new_spanned(
            const_token,
            format!("remove this `const`; {USAGE}"),
        ));
    }
    if closure.inputs.len() != 1 {
        let mut params = closure.inputs_begin.to_token_stream();
        closure.inputs.to_tokens(&mut params);
        closure.inputs_end.to_tokens(&mut params);
        let found = match closure.inputs.len() {
            0 => "this closure has no parameter".to_owned(),
            n => format!("this closure has {n} parameters"),
        };
        return Err(Error::new_spanned(params, format!("{found}; {USAGE}")));
    }
    closure.asyncness = Some(Token![async](closure.inputs_begin.span));
    Ok(closure)
}

impl TaskGroupInput {
    fn expand(&self) -> TokenStream {
        let krate = &self.krate;
        let closure = &self.closure;
        // The group's type, or a builder with its options: both have the eight scope methods.
        let opener = match &self.limit {
            None => quote!(#krate::TaskGroup::),
            Some(limit) => quote!(#krate::TaskGroup::builder().limit(#limit).),
        };
        let fallible = self.try_token.is_some();
        let scope = match (&self.send, &self.supervise) {
            (None, None) if fallible => quote!(try_scope),
            (None, None) => quote!(scope),
            (None, Some(keyword)) if fallible => quote_spanned!(keyword.span()=> try_supervise),
            (None, Some(keyword)) => quote_spanned!(keyword.span()=> supervise),
            (Some(send), None) if fallible => quote_spanned!(send.span()=> try_scope_send),
            (Some(send), None) => quote_spanned!(send.span()=> scope_send),
            (Some(send), Some(_)) if fallible => quote_spanned!(send.span()=> try_supervise_send),
            (Some(send), Some(_)) => quote_spanned!(send.span()=> supervise_send),
        };
        if self.send.is_none() {
            return quote!(#opener #scope(#closure).await);
        }
        // The send form's body is a boxed `Send` future (see `SendBody`): a closure returning
        // `Box::pin(async { body })`. The group reference goes into the async block inside a
        // `Cell`, which is not `Copy`, so that the block takes it by value instead of borrowing
        // the closure's parameter; everything else is captured as the user's closure would.
        let ExprClosure {
            attrs,
            capture,
            inputs,
            body,
            ..
        } = closure;
        let (pat, ty) = match inputs.first() {
            Some(syn::Pat::Type(typed)) => (typed.pat.to_token_stream(), Some(&typed.ty)),
            Some(pat) => (pat.to_token_stream(), None),
            None => unreachable!("checked by `closure`: one parameter"),
        };
        let ty = ty.map(|ty| quote!(: #ty));
        let tg = quote!(__tether_group);
        quote!(
            #opener #scope(#(#attrs)* #capture |#tg #ty| {
                let #tg = ::core::cell::Cell::new(#tg);
                ::std::boxed::Box::pin(async #capture {
                    let #pat = ::core::cell::Cell::into_inner(#tg);
                    #body
                })
            })
            .await
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_to_string(input: TokenStream) -> String {
        expand(input).to_string()
    }

    #[test]
    fn plain_form() {
        assert_eq!(
            expand_to_string(quote!(
                (tether) | tg | {
                    tg.create_task(work());
                }
            )),
            quote!(
                tether::TaskGroup::scope(async |tg| {
                    tg.create_task(work());
                })
                .await
            )
            .to_string(),
        );
    }

    #[test]
    fn try_move_form_with_a_typed_parameter() {
        assert_eq!(
            expand_to_string(quote!((tether) try move |tg: &Group| body)),
            quote!(tether::TaskGroup::try_scope(async move |tg: &Group| body).await).to_string(),
        );
    }

    #[test]
    fn send_forms() {
        let plain = expand_to_string(quote!((tether) send |tg| body));
        assert!(
            plain.starts_with("tether :: TaskGroup :: scope_send"),
            "{plain}"
        );
        assert!(
            plain.contains("let tg = :: core :: cell :: Cell :: into_inner"),
            "{plain}"
        );
        let fallible = expand_to_string(quote!((tether) send try move |tg: &G| body));
        assert!(
            fallible.starts_with("tether :: TaskGroup :: try_scope_send"),
            "{fallible}"
        );
        assert!(
            fallible.contains("move | __tether_group : & G |"),
            "{fallible}"
        );
        assert!(fallible.contains("async move"), "{fallible}");
    }

    #[test]
    fn limit_forms() {
        assert_eq!(
            expand_to_string(quote!((tether) limit = 4, try |tg| body)),
            quote!(
                tether::TaskGroup::builder()
                    .limit(4)
                    .try_scope(async |tg| body)
                    .await
            )
            .to_string(),
        );
        let send = expand_to_string(quote!((tether) limit = n * 2, send |tg| body));
        assert!(
            send.starts_with("tether :: TaskGroup :: builder () . limit (n * 2) . scope_send"),
            "{send}"
        );
    }

    #[test]
    fn a_zero_limit_is_refused() {
        let output = expand_to_string(quote!((tether) limit = 0, |tg| body));
        assert!(output.contains("at least 1"), "{output}");
    }

    #[test]
    fn a_late_limit_is_refused() {
        let output = expand_to_string(quote!((tether) send limit = 2, |tg| body));
        assert!(output.contains("write `limit = n,` first"), "{output}");
    }

    #[test]
    fn supervise_forms() {
        assert_eq!(
            expand_to_string(quote!((tether) supervise |tg| body)),
            quote!(tether::TaskGroup::supervise(async |tg| body).await).to_string(),
        );
        assert_eq!(
            expand_to_string(quote!((tether) supervise try move |tg| body)),
            quote!(tether::TaskGroup::try_supervise(async move |tg| body).await).to_string(),
        );
        let send = expand_to_string(quote!((tether) send supervise |tg| body));
        assert!(
            send.starts_with("tether :: TaskGroup :: supervise_send"),
            "{send}"
        );
        let send_try = expand_to_string(quote!((tether) send supervise try |tg| body));
        assert!(
            send_try.starts_with("tether :: TaskGroup :: try_supervise_send"),
            "{send_try}"
        );
    }

    #[test]
    fn misordered_supervise_is_refused() {
        let output = expand_to_string(quote!((tether) try supervise |tg| body));
        assert!(output.contains("write `supervise try`"), "{output}");
        let output = expand_to_string(quote!((tether) supervise send |tg| body));
        assert!(output.contains("write `send supervise`"), "{output}");
    }

    #[test]
    fn a_lone_supervise_is_refused() {
        let output = expand_to_string(quote!((tether) supervise));
        assert!(output.contains("takes a closure"), "{output}");
    }

    #[test]
    fn try_send_is_refused() {
        let output = expand_to_string(quote!((tether) try send |tg| body));
        assert!(output.contains("write `send try`"), "{output}");
    }

    #[test]
    fn a_lone_send_is_refused() {
        let output = expand_to_string(quote!((tether) send));
        assert!(output.contains("takes a closure"), "{output}");
    }

    #[test]
    fn async_closures_are_refused() {
        let output = expand_to_string(quote!((tether) async |tg| {}));
        assert!(output.contains("remove this `async`"), "{output}");
    }
}
