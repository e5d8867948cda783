"""Analysis stages. Each is a callable taking a batch of documents and returning it annotated."""
