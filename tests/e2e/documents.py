"""GraphQL documents the end-to-end and fault tests send."""

CREATE = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { commandId aggregateId status } }"""
UPDATE = """mutation($input: UpdateProductInput!) {
  updateProduct(input: $input) { commandId aggregateId status } }"""
PRICE = """mutation($input: ChangeProductPriceInput!) {
  changeProductPrice(input: $input) { commandId aggregateId status } }"""
DELETE = """mutation($input: DeleteProductInput!) {
  deleteProduct(input: $input) { commandId aggregateId status } }"""
HISTORY = "query($id: ID!) { productHistory(id: $id) { streamId version type data recordedAt } }"
