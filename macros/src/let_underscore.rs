//! The `let _ =` check shared by `#[tether::main]`, `#[tether::test]` and `#[tether::owned]`.
//!
//! ```text
//! // Input:
//! let _ = tether::create_task(work());
//!
//! // Output (every token of the check spanned at the user's expression):
//! let _ = match tether::create_task(work()) {
//!     __tether_value => {
//!         use ::tether::__private::owning::{ViaAny as _, ViaOwnsTask as _};
//!         ::tether::__private::owning::discard(
//!             (&::tether::__private::owning::Probe(&__tether_value)).verdict(),
//!         );
//!         __tether_value
//!     }
//! };
//! ```
//!
//! The type checker then refuses every value whose type owns a task (see
//! `tether::__private::owning`), and nothing else: the check follows types, not names, so an
//! alias (`use tether::spawn as go;`), a method, or the user's own function returning a `Task`
//! are caught as surely as `tether::create_task`. `match` keeps the value's drop where it was:
//! `let _ =` drops it at the end of the statement, and so does the rewritten statement.
//!
//! Only value expressions are rewritten (calls, method calls, `.await`, `?`, blocks, `if`,
//! `match`): `let _ = place;` moves nothing and drops nothing, and must keep doing so.
//! `_ = EXPR;` and `let _: T = EXPR;` get the same treatment.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Block, Expr, ExprAssign, ImplItemFn, Item, ItemConst, ItemFn, ItemStatic, Local, Pat, Type,
};

/// Rewrites every `let _ =` of a value in `block`, nested closures, async blocks and items
/// included.
pub(crate) fn check_block(krate: &TokenStream, block: &mut Block) {
    Rewriter { krate }.visit_block_mut(block);
}

/// Rewrites every `let _ =` of a value in the bodies `item` holds.
pub(crate) fn check_item(krate: &TokenStream, item: &mut Item) {
    Rewriter { krate }.visit_item_mut(item);
}

struct Rewriter<'a> {
    /// The path to tether.
    krate: &'a TokenStream,
}

impl Rewriter<'_> {
    /// `EXPR` → the `match` above; `ty` is the pattern's type annotation, if any, applied to
    /// `EXPR` so that it is known where the probe looks at it.
    fn wrap(&self, expr: &mut Expr, ty: Option<&Type>) {
        if !is_value(expr) {
            return;
        }
        // Stable proc macros cannot join spans; rustc can. The probe call starts with a token
        // spanned at the expression's first token and ends with one spanned at its last, so
        // rustc's span for the call, and so its error, covers the whole expression.
        let first = expr.span();
        let last = expr
            .to_token_stream()
            .into_iter()
            .last()
            .map_or(first, |token| token.span());
        let krate = &respan(self.krate.clone(), first);
        let value = match ty {
            Some(ty) => quote_spanned!(first=> #krate::__private::owning::typed::<#ty>(#expr)),
            None => expr.to_token_stream(),
        };
        let mut probe = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(first=> &#krate::__private::owning::Probe(&__tether_value)),
        );
        probe.set_span(first);
        let mut call = Group::new(Delimiter::Parenthesis, TokenStream::new());
        call.set_span(last);
        let mut arguments = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(last=> #probe.verdict #call),
        );
        arguments.set_span(last);
        let wrapped = quote_spanned! {first=>
            match #value {
                __tether_value => {
                    #[allow(unused_imports)]
                    use #krate::__private::owning::{ViaAny as _, ViaOwnsTask as _};
                    #krate::__private::owning::discard #arguments;
                    __tether_value
                }
            }
        };
        *expr = Expr::Verbatim(wrapped);
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_local_mut(&mut self, local: &mut Local) {
        visit_mut::visit_local_mut(self, local);
        let ty = match &local.pat {
            Pat::Wild(_) => None,
            Pat::Type(typed) if matches!(*typed.pat, Pat::Wild(_)) => Some((*typed.ty).clone()),
            _ => return,
        };
        if let Some(init) = &mut local.init {
            self.wrap(&mut init.expr, ty.as_ref());
        }
    }

    fn visit_expr_assign_mut(&mut self, assign: &mut ExprAssign) {
        visit_mut::visit_expr_assign_mut(self, assign);
        if matches!(*assign.left, Expr::Infer(_)) {
            self.wrap(&mut assign.right, None);
        }
    }

    // Const contexts cannot call the probe; and their values are not running tasks.
    fn visit_item_fn_mut(&mut self, function: &mut ItemFn) {
        if function.sig.constness.is_none() {
            visit_mut::visit_item_fn_mut(self, function);
        }
    }

    fn visit_impl_item_fn_mut(&mut self, function: &mut ImplItemFn) {
        if function.sig.constness.is_none() {
            visit_mut::visit_impl_item_fn_mut(self, function);
        }
    }

    fn visit_item_const_mut(&mut self, _: &mut ItemConst) {}

    fn visit_item_static_mut(&mut self, _: &mut ItemStatic) {}

    fn visit_expr_const_mut(&mut self, _: &mut syn::ExprConst) {}
}

/// `tokens` with every span set to `span`, so that rustc's notes about the call they start
/// point at the user's expression rather than at the attribute.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// Whether `expr` is a value expression that may hold a new task, rather than a place
/// (`let _ = task;` leaves `task` where it is) or a macro (whose expansion may be a place).
fn is_value(expr: &Expr) -> bool {
    match expr {
        Expr::Call(_)
        | Expr::MethodCall(_)
        | Expr::Await(_)
        | Expr::Try(_)
        | Expr::Block(_)
        | Expr::Unsafe(_)
        | Expr::If(_)
        | Expr::Match(_) => true,
        Expr::Paren(inner) => is_value(&inner.expr),
        Expr::Group(inner) => is_value(&inner.expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn rewrite(block: TokenStream) -> String {
        let mut block: Block = syn::parse2(block).unwrap();
        check_block(&quote!(::tether), &mut block);
        block.into_token_stream().to_string()
    }

    #[test]
    fn wraps_values_only() {
        let output = rewrite(quote!({
            let _ = tether::create_task(work());
            let _ = task;
            let _ = *boxed;
            let _ = vec![1];
            let _task = tether::create_task(work());
        }));
        assert_eq!(output.matches("__tether_value =>").count(), 1, "{output}");
        assert!(output.contains("let _ = task ;"), "{output}");
        assert!(output.contains("let _ = * boxed ;"), "{output}");
        assert!(
            output.contains("let _task = tether :: create_task"),
            "{output}"
        );
    }

    #[test]
    fn reaches_closures_async_blocks_assignments_and_typed_patterns() {
        let output = rewrite(quote!({
            let f = || {
                let _ = spawn(a);
            };
            let b = async {
                _ = spawn(b).await;
            };
            let _: Task<()> = spawn(c);
        }));
        assert_eq!(output.matches("__tether_value =>").count(), 3, "{output}");
        assert!(
            output.contains(":: tether :: __private :: owning :: typed :: < Task < () > >"),
            "{output}"
        );
    }

    #[test]
    fn leaves_const_contexts_alone() {
        let output = rewrite(quote!({
            const fn f() {
                let _ = g();
            }
            const X: () = {
                let _ = g();
            };
        }));
        assert!(!output.contains("__tether_value"), "{output}");
    }
}
