struct Suite;

impl Suite {
    #[tether::test]
    async fn method(&self) {}
}

fn main() {}
