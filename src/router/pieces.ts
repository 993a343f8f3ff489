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

  /** The buffers that hold the bytes, in order (for scanning them without joining). */
  get pieces(): readonly Buffer[] {
    return this.list;
  }

  /**
   * The first `count` bytes (at most `bytes`) in one buffer, still held: copied only when they span
   * pieces, and then only those bytes, which stay joined for the next call.
   */
  front(count: number): Buffer {
    const first = this.list[0];
    if (first !== undefined && first.length >= count) return first.subarray(0, count);
    const joined = this.take(count);
    this.list.unshift(joined);
    this.bytes += joined.length;
    return joined;
  }

  /** Removes the first `count` bytes (at most `bytes`) and returns them in one buffer; only they are copied, and only when they span pieces. */
  take(count: number): Buffer {
    this.open = null; // no more writes into the block: its bytes may now be a request's body
    const used: Buffer[] = [];
    let taken = 0;
    while (taken < count && this.list.length > 0) {
      const piece = this.list[0]!;
      const wanted = count - taken;
      if (piece.length <= wanted) this.list.shift();
      else this.list[0] = piece.subarray(wanted);
      used.push(piece.length <= wanted ? piece : piece.subarray(0, wanted));
      taken += Math.min(piece.length, wanted);
    }
    this.bytes -= taken;
    return used.length === 1 ? used[0]! : Buffer.concat(used, taken);
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
