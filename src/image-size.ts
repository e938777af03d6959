/** Width and height of an image in pixels: shared by the resize kernel and the model's image geometry. */
export interface Size {
  width: number;
  height: number;
}
