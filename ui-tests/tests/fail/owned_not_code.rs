// `#[tether::owned]` checks code that runs; a struct or a module in another file holds none
// that it can see.

#[tether::owned]
struct Server;

#[tether::owned(strict)]
fn start() {}

fn main() {
    let _server = Server;
    start();
}
