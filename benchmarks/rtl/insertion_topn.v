// A register insertion sort keeping the top N of each row: the comparison baseline of topn_stream (one key per
// clock), the structure of streaming top-K sorters such as the Vitis Libraries' sortTopK. Same ports and the same
// rule as topn_stream #(P = 1): keep the min(N, L) keys of smallest score, ties to the lower key index.
//   N slots sorted by (score, key): a key (arriving in key order) goes before the first slot with a larger score
//   (N comparators, one shift); at the row's last key the slots move to an output shift register and the sorter
//   starts empty for the next row; the output emits one key per cycle, then out_done (out_valid low).
// Used by benchmarks/topn_synth.py only (synthesis: resources and logic levels); tests/test_topn_stream.py checks
// that it keeps the rule's keys, so the comparison is between two correct units.
`default_nettype none
module insertion_topn #(
    parameter L = 512,
    parameter D = 64,
    parameter N = 64
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          in_valid,
    output wire          in_ready,
    input  wire [HW-1:0] in_h,
    output reg           out_valid,
    output reg  [IW-1:0] out_idx,
    output reg  [HW-1:0] out_h,
    output reg           out_done
);
    localparam HW = $clog2(D + 1);
    localparam IW = (L > 1) ? $clog2(L) : 1;
    localparam NK = (N < L) ? N : L;
    reg [NK-1:0] sv, ov;                 // slot valid: sorter, output register
    reg [NK*HW-1:0] sh, oh;
    reg [NK*IW-1:0] sk, ok;
    reg [IW-1:0] key;                    // key index of the next input
    reg busy;                            // the output register is emitting
    wire last = (key == L - 1);
    assign in_ready = !rst && !(last && busy);
    wire take = in_valid && in_ready;

    // insertion position: slot i takes the new key if it is the first slot that is empty or has a larger score
    integer i;
    reg [NK-1:0] before;                 // slot i holds a key that stays in front of the new one
    reg [NK-1:0] nsv;
    reg [NK*HW-1:0] nsh;
    reg [NK*IW-1:0] nsk;
    always @* begin
        for (i = 0; i < NK; i = i + 1) before[i] = sv[i] && !(in_h < sh[i*HW +: HW]);
        for (i = 0; i < NK; i = i + 1) begin
            if (before[i]) begin
                nsv[i] = sv[i]; nsh[i*HW +: HW] = sh[i*HW +: HW]; nsk[i*IW +: IW] = sk[i*IW +: IW];
            end else if (i == 0 || before[i-1]) begin
                nsv[i] = 1'b1; nsh[i*HW +: HW] = in_h; nsk[i*IW +: IW] = key;
            end else begin
                nsv[i] = sv[i-1]; nsh[i*HW +: HW] = sh[(i-1)*HW +: HW]; nsk[i*IW +: IW] = sk[(i-1)*IW +: IW];
            end
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            sv <= {NK{1'b0}}; ov <= {NK{1'b0}}; key <= 0; busy <= 1'b0; out_valid <= 1'b0; out_done <= 1'b0;
        end else begin
            out_valid <= 1'b0;
            out_done <= 1'b0;
            if (busy) begin
                if (ov[0]) begin
                    out_valid <= 1'b1;
                    out_h <= oh[HW-1:0];
                    out_idx <= ok[IW-1:0];
                    ov <= ov >> 1; oh <= oh >> HW; ok <= ok >> IW;
                end else begin
                    out_done <= 1'b1;
                    busy <= 1'b0;
                end
            end
            if (take) begin
                if (last) begin
                    ov <= nsv; oh <= nsh; ok <= nsk; busy <= 1'b1;
                    sv <= {NK{1'b0}};
                    key <= 0;
                end else begin
                    sv <= nsv; sh <= nsh; sk <= nsk;
                    key <= key + 1'b1;
                end
            end
        end
    end
endmodule
`default_nettype wire
