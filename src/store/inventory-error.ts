/** An inventory that was rejected whole: the path of the first bad record and why. */
export class InventoryError extends Error {
  override name = "InventoryError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}
