// The few parts of pdfkit (0.20, which ships no type declarations) that statements use.
declare module 'pdfkit' {
  interface TextOptions {
    width?: number;
    align?: 'left' | 'right' | 'center' | 'justify';
    continued?: boolean;
    lineBreak?: boolean;
  }
  class PDFDocument {
    constructor(options?: { size?: string; margin?: number; info?: Record<string, string>; compress?: boolean });
    y: number;
    x: number;
    page: { width: number; height: number; margins: { top: number; bottom: number; left: number; right: number } };
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'end', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    font(name: string): this;
    registerFont(name: string, src: string): this;
    fontSize(size: number): this;
    fillColor(color: string): this;
    text(text: string, x?: number, y?: number, options?: TextOptions): this;
    text(text: string, options?: TextOptions): this;
    moveDown(lines?: number): this;
    image(
      src: Buffer,
      x?: number,
      y?: number,
      options?: { fit?: [number, number]; width?: number; height?: number },
    ): this;
    moveTo(x: number, y: number): this;
    lineTo(x: number, y: number): this;
    stroke(color?: string): this;
    addPage(): this;
    end(): void;
  }
  export default PDFDocument;
}
