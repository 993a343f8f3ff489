// The bytes a connection has read and not yet used, in arrival order, kept without copying them all
// on each read and joined once when wanted. Small pieces in a row (a client may send one byte per TCP
// segment) are copied together into blocks: each Buffer costs about 200 bytes of heap beside its
// bytes, which the input budget does not see.

/** Pieces smaller than this, one after another, are copied together. */
const SMALL_PIECE = 1024;
const BLOCK_BYTES = 4096;

export class InputPieces {
  /** Bytes held. */
  bytes = 0;
  private list: Buffer[] = [];
  /** The block small pieces are copied into, and the last piece when that is the block's bytes so far. */
  private block = Buffer.alloc(0);
  private open: Buffer | null = null;

  /** How many buffers hold the bytes. */
  get count(): number {
    return this.list.length;
  }

  push(piece: Buffer): void {
    this.bytes += piece.length;
    const last = this.list[this.list.length - 1];
    if (piece.length >= SMALL_PIECE || last === undefined) this.list.push(piece);
    else if (last === this.open && last.length + piece.length <= this.block.length) this.extend(piece);
    else if (last.length >= SMALL_PIECE) this.list.push(piece);
    else {
      // Two small pieces in a row: a new block for them and the small ones that follow.
      this.block = Buffer.allocUnsafe(BLOCK_BYTES);
      last.copy(this.block);
      this.open = this.list[this.list.length - 1] = this.block.subarray(0, last.length);
      this.extend(piece);
    }
  }

  /** Every byte held, in one buffer (copied only when there is more than one). */
  join(): Buffer {
    if (this.list.length > 1) this.replace([Buffer.concat(this.list, this.bytes)]);
    return this.list[0] ?? Buffer.alloc(0);
  }

  /** Holds `rest` instead (what is left once a request is used). */
  replace(rest: Buffer[]): void {
    this.list = rest;
    this.bytes = rest.reduce((sum, piece) => sum + piece.length, 0);
    this.open = null; // no more writes into the block: its bytes may now be a request's body
  }

  /** Copies `piece` after the open block's bytes; bytes already handed out are before them, untouched. */
  private extend(piece: Buffer): void {
    const end = this.open!.length;
    piece.copy(this.block, end);
    this.open = this.list[this.list.length - 1] = this.block.subarray(0, end + piece.length);
  }
}
