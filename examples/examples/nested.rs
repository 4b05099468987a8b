//! Twin of asyncio's "Coroutines" awaitable example: a coroutine `nested()` returning 42,
//! awaited from `main`, which prints the result.

async fn nested() -> i32 {
    42
}

#[tether::main]
async fn main() {
    // Calling a coroutine only creates it; nothing runs until it is awaited. asyncio warns
    // about a coroutine that is never awaited. Here it is a compile error: `#[tether::main]`
    // denies `unused_must_use` in its body, so the line
    //
    //     nested();
    //
    // would not compile ("unused implementer of `Future` that must be used").

    println!("{}", nested().await); // prints 42
}
