//! `task_group!`: run a closure with a task group and await the group in place.
//!
//! ```text
//! // Input (after the runtime's wrapper): task_group!(($crate) |tg| body)
//! // Output:                              $crate::TaskGroup::scope(async |tg| body).await
//!
//! // Input:  task_group!(($crate) try move |tg: &TaskGroup<'_, '_>| body)
//! // Output: $crate::TaskGroup::try_scope(async move |tg: &TaskGroup<'_, '_>| body).await
//! ```
//!
//! The closure is re-emitted token for token with `async` added, so errors in its parameter or
//! body keep pointing at the user's code.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Error, Expr, ExprClosure, Result, Token};

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

/// `($crate) [try] [move] |tg| body`
struct TaskGroupInput {
    /// The path to tether, as the wrapper passed it.
    krate: TokenStream,
    /// The fallible form: `try_scope` instead of `scope`.
    try_token: Option<Token![try]>,
    /// The user's closure, already checked and made `async`.
    closure: ExprClosure,
}

impl Parse for TaskGroupInput {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let krate = crate::crate_arg::parse(input, "task_group")?;
        let try_token: Option<Token![try]> = input.parse()?;
        if input.is_empty() {
            let span = try_token.map_or_else(Span::call_site, |token| token.span);
            return Err(Error::new(span, USAGE));
        }
        let body: Expr = input.parse()?;
        let _trailing_comma: Option<Token![,]> = input.parse()?;
        if !input.is_empty() {
            return Err(input.error(format!("unexpected tokens after the closure; {USAGE}")));
        }
        let closure = closure(body)?;
        Ok(TaskGroupInput {
            krate,
            try_token,
            closure,
        })
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
    if let Some(static_token) = closure.movability {
        return Err(Error::new_spanned(
            static_token,
            format!("remove this `static`; {USAGE}"),
        ));
    }
    if closure.inputs.len() != 1 {
        let mut params = closure.or1_token.to_token_stream();
        closure.inputs.to_tokens(&mut params);
        closure.or2_token.to_tokens(&mut params);
        let found = match closure.inputs.len() {
            0 => "this closure has no parameter".to_owned(),
            n => format!("this closure has {n} parameters"),
        };
        return Err(Error::new_spanned(params, format!("{found}; {USAGE}")));
    }
    closure.asyncness = Some(Token![async](closure.or1_token.span));
    Ok(closure)
}

impl TaskGroupInput {
    fn expand(&self) -> TokenStream {
        let krate = &self.krate;
        let closure = &self.closure;
        let scope = match self.try_token {
            Some(_) => quote!(try_scope),
            None => quote!(scope),
        };
        quote!(#krate::TaskGroup::#scope(#closure).await)
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
    fn async_closures_are_refused() {
        let output = expand_to_string(quote!((tether) async |tg| {}));
        assert!(output.contains("remove this `async`"), "{output}");
    }
}
